"""rrweb's event vocabulary and the custom-event tags our recorder emits.

Numbers follow rrweb 2.x types; unknown types are valid and stored as-is.
"""

from __future__ import annotations

DOM_CONTENT_LOADED = 0
LOAD = 1
FULL_SNAPSHOT = 2
INCREMENTAL = 3
META = 4
CUSTOM = 5
PLUGIN = 6
ASSET = 7

SOURCE_MUTATION = 0
SOURCE_MOUSE_MOVE = 1
SOURCE_MOUSE_INTERACTION = 2
SOURCE_SCROLL = 3
SOURCE_VIEWPORT_RESIZE = 4
SOURCE_INPUT = 5
SOURCE_TOUCH_MOVE = 6
SOURCE_MEDIA_INTERACTION = 7
SOURCE_LOG = 11
SOURCE_DRAG = 12

USER_ACTIVITY_SOURCES = frozenset(
    {
        SOURCE_MOUSE_MOVE,
        SOURCE_MOUSE_INTERACTION,
        SOURCE_SCROLL,
        SOURCE_INPUT,
        SOURCE_TOUCH_MOVE,
        SOURCE_DRAG,
    }
)

# MouseInteractions
MOUSE_UP = 0
MOUSE_DOWN = 1
CLICK = 2
CONTEXT_MENU = 3
DBL_CLICK = 4
FOCUS = 5
BLUR = 6

# Custom events (type 5) our recorder emits: data = {"tag": TAG, "payload": {...}}
TAG_META = "sentiero:meta"  # {url, referrer, viewport: {width, height}, title}
TAG_ERROR = "sentiero:error"  # {kind, message, source, line, column, stack}
TAG_NAVIGATION = "sentiero:navigation"  # {href, text}
TAG_CUSTOM = "sentiero:custom"  # {name, properties}
TAG_FORM_SUBMIT = "sentiero:form_submit"  # {form_id, form_name, action, url}
TAG_VITAL = "sentiero:vital"  # {name, value, rating}
TAG_IDENTIFY = "sentiero:identify"  # {user_id, traits}
#: A single-page app's route change (History API or fragment): a page view
#: without a new document. kind: "push" | "replace" | "pop" | "hash".
TAG_PAGE = "sentiero:page"  # {url, title, kind}
#: A burst of DOM mutations past ``mutation_warning`` (once per burst).
TAG_MUTATION_WARNING = "sentiero:mutation_warning"  # {mutations}
#: The recorder stopped recording this page (reason "mutation_limit").
TAG_RECORDING_PAUSED = "sentiero:recording_paused"  # {reason, mutations}

#: Always on: what a click hit, for analytics. ``id`` is rrweb's node id of
#: the clicked node (as in rrweb's own click), ``sel`` the selector of the
#: nearest link, button, field, label, summary or element with an id or role
#: (else of the node itself); ``x``, ``y``: where the click landed inside that
#: element's box, ``w``, ``h``: the box's size (CSS pixels, rounded; left out
#: for a click without a position inside it, such as a keyboard's).
TAG_CLICK = "sentiero:click"  # {id, sel, x?, y?, w?, h?}
#: Always on: a form field focused or changed, named for analytics.
TAG_FIELD = "sentiero:field"  # {id, sel}
#: Sentiero's recorder sets ``data["sentiero"] = 1`` on its full snapshots and
#: on mutations adding nodes: its recording names clicks and fields itself.
NAMED_MARK = "sentiero"

CONSOLE_PLUGIN = "rrweb/console@1"

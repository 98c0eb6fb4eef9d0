// Custom-event tags; the server's vocabulary is sentiero_core/events.py.
export const TAG_META = 'sentiero:meta';
export const TAG_ERROR = 'sentiero:error';
export const TAG_NAVIGATION = 'sentiero:navigation';
export const TAG_CUSTOM = 'sentiero:custom';
export const TAG_FORM_SUBMIT = 'sentiero:form_submit';
export const TAG_VITAL = 'sentiero:vital';
export const TAG_IDENTIFY = 'sentiero:identify';
export const TAG_PAGE = 'sentiero:page';
export const TAG_MUTATION_WARNING = 'sentiero:mutation_warning';
export const TAG_RECORDING_PAUSED = 'sentiero:recording_paused';
export const TAG_CLICK = 'sentiero:click';
export const TAG_FIELD = 'sentiero:field';

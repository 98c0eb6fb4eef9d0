from django.urls import path

from . import views

urlpatterns = [
    path("", views.home),
    path("cart/", views.cart),
    path("boom/", views.boom),
]

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"nonce": request.GET.get("nonce", "")})


def cart(request: HttpRequest) -> HttpResponse:
    return render(request, "cart.html")


def boom(request: HttpRequest) -> HttpResponse:
    raise LookupError("order 999 does not exist")

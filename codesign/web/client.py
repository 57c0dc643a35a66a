"""Who is on the other end, as far as attempt limits care: an address and a device id."""

from __future__ import annotations

import ipaddress
import secrets

from starlette.requests import Request

DEVICE_KEY = "device"


def address(request: Request) -> str:
    """The client's address (the proxy's X-Forwarded-For when CODESIGN_TRUSTED_PROXY is set, which
    uvicorn applies). IPv6 counts per /64: one household or venue gets a whole /64, so counting
    single IPv6 addresses would give one attacker billions of fresh addresses."""
    host = request.client.host if request.client else "unknown"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


def device_id(request: Request) -> str:
    """A random id for this browser, kept in its signed session cookie, made when first needed.
    It lets a wrong code slow only the device that typed it. Clearing cookies makes a new one,
    which is why the address has a limit of its own."""
    current = request.session.get(DEVICE_KEY)
    if isinstance(current, str) and 16 <= len(current) <= 64:
        return current
    made = secrets.token_urlsafe(16)
    request.session[DEVICE_KEY] = made
    return made

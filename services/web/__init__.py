"""web: Jejak's face in the browser, in Indonesian, for every actor of the SOP.

A backend for the frontend: server-rendered pages (Jinja2, htmx for partial updates and live
parts) that call the services' HTTP APIs with the signed-in user's token and never read their
databases, so who may do what stays decided by the services alone. The token lives in an
HttpOnly, SameSite=Strict cookie; every form that changes something carries a CSRF token bound
to it.
"""

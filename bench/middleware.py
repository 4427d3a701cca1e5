"""Counts the database queries of each request into an `X-Bench-Queries` header."""

from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponse


class QueryCountMiddleware:
    """Adds `X-Bench-Queries: <n>`: statements the request sent to the database."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        response["X-Bench-Queries"] = str(count)
        return response

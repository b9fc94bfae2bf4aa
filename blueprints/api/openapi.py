"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json.

Written by hand and kept in step with the routes by tests/test_api.py, which
checks that every API route is described here and nothing else is.
"""

from copy import deepcopy

from blueprints.api.requests import CURSOR_MAX_LENGTH, MAX_PAGE_SIZE, MAX_ROW_ID, SEARCH_MAX_LENGTH
from models import EnrollmentStatus
from services.core.pagination import DEFAULT_PAGE_SIZE
from services.core.validation import FULL_NAME_MAX_LENGTH, SOURCE_TITLE_MAX_LENGTH
from services.data.exports import HEADER as EXPORT_HEADER
from services.data.exports import STATUSES as EXPORT_STATUSES
from services.subscriptions.lists import SLUG_MAX_LENGTH as LIST_SLUG_MAX_LENGTH


def _problem(description: str) -> dict:
    return {"description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def _json(schema_name: str, description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/responses/{name}"}


_STAFF_ERRORS = {"401": _ref("Unauthorized"), "403": _ref("Forbidden")}
_TEXT = {"type": "string"}
# What people may type in a name: no control or line-separator characters.
_PRINTABLE = r"^[^\u0000-\u001f\u007f-\u009f\u2028\u2029\ufffd]*$"
_TIME = {"type": ["string", "null"], "format": "date-time"}
_LIST_QUERY = {"name": "list", "in": "query", "description": "Only this list (its slug); none if unknown.",
               "schema": {"type": "string", "maxLength": LIST_SLUG_MAX_LENGTH}}
_STATUS_QUERY = {"name": "status", "in": "query", "description": "Only subscriptions in this state.",
                 "schema": {"$ref": "#/components/schemas/Status"}}
_SUBSCRIBER_ID = {"name": "subscriber_id", "in": "path", "required": True,
                  "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID}}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {
        "title": "Roster API",
        "version": "1.0.0",
        "description": (
            "Sign-ups from article pages (public, for the origins in EMBED_ALLOWED_ORIGINS, "
            "with CORS) and subscriber and enrolment data for staff (bearer tokens made with "
            "`flask api-tokens create` or on the console's API tokens page). Errors are RFC 9457 problem details."
        ),
    },
    "servers": [{"url": "/api/v1"}],
    "paths": {
        "/subscriptions": {
            "post": {
                "operationId": "createSubscription",
                "summary": "Ask to subscribe an address (double opt-in: a confirmation mail follows).",
                "description": (
                    "Public. Browsers must send an Origin (or Referer) on the allow-list. The answer "
                    "is the same for every address, whatever its state."
                ),
                "security": [],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/SubscriptionRequest"}}}},
                "responses": {
                    "202": _json("Accepted", "Accepted; a confirmation mail is on its way if appropriate."),
                    "400": _problem("The body is not valid JSON."),
                    "403": _problem("The request does not come from an allowed origin."),
                    "404": _problem("The list named is not a public list."),
                    "415": _problem("The body is not JSON."),
                    "422": _problem("A field is missing or not acceptable; see `errors`."),
                    "429": _ref("TooManyRequests"),
                },
            },
            "options": {
                "operationId": "preflightSubscription",
                "summary": "CORS preflight; answered only for allowed origins.",
                "security": [],
                "responses": {
                    "204": {"description": "The origin may post JSON here."},
                    "403": _problem("The origin is not allowed."),
                },
            },
        },
        "/subscribers": {
            "get": {
                "operationId": "listSubscribers",
                "summary": "List and search subscribers.",
                "parameters": [
                    {"name": "q", "in": "query",
                     "description": "The start of the address, or text anywhere in the name.",
                     "schema": {"type": "string", "maxLength": SEARCH_MAX_LENGTH}},
                    _LIST_QUERY, _STATUS_QUERY,
                    {"name": "after", "in": "query",
                     "description": "The `next_cursor` of the page before; the first page when left out.",
                     "schema": {"type": "string", "maxLength": CURSOR_MAX_LENGTH}},
                    {"name": "limit", "in": "query", "description": "Subscribers per page.",
                     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE,
                                "default": DEFAULT_PAGE_SIZE}},
                ],
                "responses": {
                    "200": _json("SubscriberPage", "One page of subscribers, newest first."),
                    **_STAFF_ERRORS,
                    "422": _problem("A query parameter is not acceptable; see `errors`."),
                },
            },
        },
        "/subscribers/{subscriber_id}": {
            "get": {
                "operationId": "getSubscriber",
                "summary": "One subscriber with their subscriptions.",
                "parameters": [_SUBSCRIBER_ID],
                "responses": {
                    "200": _json("Subscriber", "The subscriber."),
                    **_STAFF_ERRORS,
                    "404": _problem("No such subscriber."),
                    "422": _problem("An unknown query parameter; see `errors`."),
                },
            },
        },
        "/subscribers/{subscriber_id}/unsubscribe": {
            "post": {
                "operationId": "unsubscribeSubscriber",
                "summary": "Take a subscriber off one list, or off every list. Needs a read-write token.",
                "parameters": [_SUBSCRIBER_ID],
                "requestBody": {"required": False, "content": {"application/json": {"schema": {
                    "type": "object", "additionalProperties": False,
                    "properties": {"list": {"type": "string", "maxLength": LIST_SLUG_MAX_LENGTH,
                                            "description": "The list's slug; every list when left out."}},
                }}}},
                "responses": {
                    "200": {"description": "The lists the subscriber was taken off.",
                            "content": {"application/json": {"schema": {
                                "type": "object", "required": ["unsubscribed_from"],
                                "properties": {"unsubscribed_from": {"type": "array", "items": _TEXT}},
                            }}}},
                    "400": _problem("The body is not valid JSON."),
                    **_STAFF_ERRORS,
                    "404": _problem("No such subscriber, or no such list."),
                    "415": _problem("The body is not JSON."),
                    "422": _problem("The body is not acceptable; see `errors`."),
                },
            },
        },
        "/subscriptions.csv": {
            "get": {
                "operationId": "exportSubscriptions",
                "summary": "Every subscription as CSV (spreadsheet formulas escaped), streamed, audited.",
                "description": ("The export the console and `flask subscribers export` make, with "
                                "Mailchimp's columns: " + ", ".join(EXPORT_HEADER) + ". `cleaned` is a "
                                "suppressed address."),
                "parameters": [
                    {"name": "list", "in": "query", "description": "Only this list (its slug).",
                     "schema": {"type": "string", "maxLength": LIST_SLUG_MAX_LENGTH}},
                    {"name": "status", "in": "query", "description": "Only these states (repeat for several).",
                     "style": "form", "explode": True,
                     "schema": {"type": "array", "items": {"type": "string", "enum": list(EXPORT_STATUSES)}}},
                ],
                "responses": {
                    "200": {"description": "CSV with a header row.", "content": {"text/csv": {"schema": _TEXT}}},
                    **_STAFF_ERRORS,
                    "404": _problem("No such list."),
                    "422": _problem("A query parameter is not acceptable; see `errors`."),
                },
            },
        },
        "/enrollments": {
            "get": {
                "operationId": "listEnrollments",
                "summary": "A cohort's enrolments: seated first, then the waitlist in order, then the rest.",
                "parameters": [{"name": "cohort", "in": "query", "required": True, "description": "The cohort's id.",
                                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID}}],
                "responses": {
                    "200": _json("CohortEnrollments", "The cohort and its enrolments."),
                    **_STAFF_ERRORS,
                    "404": _problem("No such cohort."),
                    "422": _problem("A query parameter is missing or not acceptable; see `errors`."),
                },
            },
        },
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document.",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1.",
                                      "content": {"application/json": {"schema": {"type": "object"}}}}},
            },
        },
    },
    "security": [{"bearer": []}],
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                       "description": "A staff API token (read, or read-write)."}},
        "responses": {
            "Unauthorized": _problem("No token, or an unknown or revoked one."),
            "Forbidden": _problem("The token's scope does not allow this."),
            "TooManyRequests": {"description": "Too many requests from this IP or for this address."},
        },
        "schemas": {
            "Status": {"type": "string", "enum": ["pending", "confirmed", "unsubscribed"]},
            "SubscriptionRequest": {
                "type": "object",
                "required": ["email"],
                "additionalProperties": False,
                "properties": {
                    "email": {"type": "string", "format": "email", "maxLength": 254},
                    "full_name": {"type": "string", "maxLength": FULL_NAME_MAX_LENGTH, "pattern": _PRINTABLE},
                    "list": {"type": "string", "maxLength": LIST_SLUG_MAX_LENGTH,
                             "description": "The list's slug; the default list when left out."},
                    "source": {"type": "string", "maxLength": 2000,
                               "description": "The article's URL; UTM parameters in it are kept apart."},
                    "source_title": {"type": "string", "maxLength": SOURCE_TITLE_MAX_LENGTH,
                                     "description": "The article's title (document.title), kept as "
                                                    "the subscription's utm.title."},
                    "website": {"type": "string", "maxLength": 200,
                                "description": "Honeypot: people leave it empty."},
                    **{key: {"type": "string", "maxLength": 200} for key in
                       ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")},
                },
            },
            "Accepted": {"type": "object", "required": ["status", "message"],
                         "properties": {"status": {"const": "accepted"}, "message": _TEXT}},
            "Subscription": {
                "type": "object",
                "required": ["list", "status", "created_at"],
                "properties": {
                    "list": _TEXT, "status": {"$ref": "#/components/schemas/Status"},
                    "created_at": {"type": "string", "format": "date-time"},
                    "confirmed_at": _TIME, "unsubscribed_at": _TIME,
                    "source_url": {"type": ["string", "null"]},
                    "utm": {"type": ["object", "null"], "additionalProperties": _TEXT},
                },
            },
            "Subscriber": {
                "type": "object",
                "required": ["id", "email", "full_name", "created_at", "subscriptions"],
                "properties": {
                    "id": {"type": "integer"}, "email": _TEXT, "full_name": _TEXT,
                    "created_at": {"type": "string", "format": "date-time"},
                    "subscriptions": {"type": "array", "items": {"$ref": "#/components/schemas/Subscription"}},
                },
            },
            "SubscriberPage": {
                "type": "object",
                "required": ["items", "next_cursor"],
                "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Subscriber"}},
                    "next_cursor": {"type": ["string", "null"],
                                    "description": "Pass as `after` for the next page; null on the last page."},
                },
            },
            "Cohort": {
                "type": "object",
                "required": ["id", "course", "label", "starts_on", "ends_on", "capacity", "seats_taken", "waitlisted"],
                "properties": {
                    "id": {"type": "integer"}, "course": {"type": "string", "description": "The course's slug."},
                    "label": _TEXT, "starts_on": {"type": "string", "format": "date"},
                    "ends_on": {"type": "string", "format": "date"},
                    "capacity": {"type": ["integer", "null"], "description": "Null: unlimited."},
                    "seats_taken": {"type": "integer", "description": "Seats held, any over capacity included."},
                    "waitlisted": {"type": "integer"},
                },
            },
            "Enrollment": {
                "type": "object",
                "required": ["id", "full_name", "email", "status", "waitlist_position", "requested_at"],
                "properties": {
                    "id": {"type": "integer"}, "full_name": _TEXT, "email": _TEXT,
                    "phone": {"type": ["string", "null"]}, "country": {"type": ["string", "null"]},
                    "organisation": {"type": ["string", "null"]}, "note": {"type": ["string", "null"]},
                    "status": {"type": "string", "enum": [status.value for status in EnrollmentStatus]},
                    "waitlist_position": {"type": ["integer", "null"]},
                    "requested_at": {"type": "string", "format": "date-time"},
                    "confirmed_at": _TIME, "cancelled_at": _TIME, "paid_at": _TIME,
                },
            },
            "CohortEnrollments": {
                "type": "object",
                "required": ["cohort", "items"],
                "properties": {
                    "cohort": {"$ref": "#/components/schemas/Cohort"},
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Enrollment"}},
                },
            },
            "Problem": {
                "type": "object",
                "required": ["type", "title", "status"],
                "properties": {
                    "type": _TEXT, "title": _TEXT, "status": {"type": "integer"}, "detail": _TEXT,
                    "errors": {"type": "array", "items": {
                        "type": "object", "required": ["field", "message"],
                        "properties": {"field": _TEXT, "message": _TEXT}}},
                },
            },
        },
    },
}


def document() -> dict:
    return deepcopy(DOCUMENT)

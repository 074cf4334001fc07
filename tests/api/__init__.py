"""The API as a whole (maillage/api.py): its errors, its OpenAPI document kept by schemathesis,
and every write endpoint with every role."""

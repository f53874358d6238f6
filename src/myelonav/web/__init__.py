"""The web app: a REST API under ``/api/v1`` and server-rendered pages for patients and staff.

``create_app()`` builds the FastAPI application; ``myelonav serve`` runs it with uvicorn.
"""

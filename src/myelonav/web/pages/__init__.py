"""Server-rendered pages (Jinja2 templates, one CSS file, no scripts)."""

from myelonav.web.pages.routes import install_page_errors, page_router

__all__ = ["install_page_errors", "page_router"]

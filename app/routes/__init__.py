"""One router per concept; `app.main` mounts them under `/api/v1`."""

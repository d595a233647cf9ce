"""The HTTP service, storage, queue, reports and CLI around the graders."""

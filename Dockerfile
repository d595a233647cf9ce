# The autograder service. The same image runs the API (`autograder serve`, the default) and the
# Redis workers (`autograder worker`); see docker-compose.yml.
FROM python:3.11-slim

# bubblewrap + libseccomp: the sandbox that runs student code (graders/engines/sandbox).
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap libseccomp2 \
 && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
    AUTOGRADER_DATA_DIR=/data \
    AUTOGRADER_DATABASE_URL=sqlite:////data/autograder.db

WORKDIR /srv/autograder
# torch first, CPU-only, pinned: the default index would pull the CUDA build.
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY . .
RUN pip install --no-cache-dir -e . && mkdir -p /data

# Root inside the container on purpose: the sandbox (bubblewrap) switches every grading job of
# student code to its own unprivileged uid, which only root can do.
VOLUME /data
EXPOSE 8000
ENTRYPOINT ["autograder"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]

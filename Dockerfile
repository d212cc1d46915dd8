# tiktok-cancel: a slim image that runs the bot as a non-root user, the SQLite file on a volume.
#   docker build -t tiktok-cancel .
#   docker run --env-file .env -p 3000:3000 -v tiktok-cancel-data:/data tiktok-cancel
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DATABASE_PATH=/data/tiktok-cancel.sqlite3 \
    HOST=0.0.0.0 \
    PORT=3000

WORKDIR /app
# Dependencies first, from the lock file (exact versions): this layer is rebuilt only when
# requirements.lock changes, not on every code change.
COPY requirements.lock ./
RUN pip install -r requirements.lock \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin tiktokcancel \
    && mkdir -p /data && chown tiktokcancel /data && chmod 0700 /data
# Then the code (sandbox/ included: `python -m bot sandbox` runs in the image too).
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY sandbox ./sandbox
RUN pip install --no-deps .

USER tiktokcancel
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"3000\")}/healthz', timeout=4)" || exit 1
CMD ["python", "-m", "bot"]

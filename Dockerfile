# backprop-lens: mirrors `make run` (serve on port 8000 with the SQLite store).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    BACKPROP_LENS_HOST=0.0.0.0 BACKPROP_LENS_PORT=8000 \
    BACKPROP_LENS_STORE=sqlite:////data/sessions.db \
    BACKPROP_LENS_TEMPLATES_DIR=/app/templates BACKPROP_LENS_STATIC_DIR=/app/static

RUN useradd --create-home --uid 10001 lens && mkdir /data && chown lens /data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY engine ./engine
COPY app ./app
COPY templates ./templates
COPY static ./static
RUN pip install --no-cache-dir .

USER lens
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
CMD ["backprop-lens", "serve"]

# verbatim: the API, its worker thread and the models, CPU only, no downloads at run time.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    VERBATIM_DATABASE_URL=sqlite:////data/verbatim.db \
    VERBATIM_MIGRATIONS=/srv/verbatim/migrations

WORKDIR /srv/verbatim
# torch first, from the CPU index, so sentence-transformers does not pull a CUDA build
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY app app
COPY pipelines pipelines
COPY models models
COPY migrations migrations
COPY samples samples
RUN pip install --no-cache-dir .

VOLUME /data
EXPOSE 8000
CMD ["verbatim", "serve", "--host", "0.0.0.0", "--port", "8000"]

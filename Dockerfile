# The kserve-cmp sidecar for Argo CD's repo-server: Python, the kserve-cmp package, a pinned
# kustomize and plugin.yaml where argocd-cmp-server looks for it. The server binary itself comes
# from the repo-server's shared var-files volume (see deploy/). Runs as user 999 and writes only
# below /tmp, so readOnlyRootFilesystem works with an emptyDir on /tmp.
#
#   docker build -t kserve-cmp:0.1.0 .

# --- kustomize: a pinned release, verified against its published SHA-256 ---------------------------
FROM python:3.12.11-slim-bookworm AS kustomize
ARG TARGETARCH=amd64
ARG KUSTOMIZE_VERSION=v5.4.3
ARG KUSTOMIZE_SHA256_AMD64=3669470b454d865c8184d6bce78df05e977c9aea31c30df3c669317d43bcc7a7
ARG KUSTOMIZE_SHA256_ARM64=1b515578b0af12c15d9856720066ce2fe66756d63785b2cbccaf2885beb2381c
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN url="https://github.com/kubernetes-sigs/kustomize/releases/download/kustomize%2F${KUSTOMIZE_VERSION}/kustomize_${KUSTOMIZE_VERSION}_linux_${TARGETARCH}.tar.gz" \
 && case "${TARGETARCH}" in \
      amd64) sum="${KUSTOMIZE_SHA256_AMD64}" ;; \
      arm64) sum="${KUSTOMIZE_SHA256_ARM64}" ;; \
      *) echo "no pinned kustomize checksum for ${TARGETARCH}" >&2; exit 1 ;; \
    esac \
 && python -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' "${url}" /tmp/kustomize.tar.gz \
 && echo "${sum}  /tmp/kustomize.tar.gz" | sha256sum --check --strict - \
 && tar -xzf /tmp/kustomize.tar.gz -C /usr/local/bin kustomize \
 && rm /tmp/kustomize.tar.gz \
 && kustomize version

# --- the package, in its own virtualenv, from the committed runtime lock (the versions CI tests) -----
FROM python:3.12.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY requirements/runtime.txt ./requirements/runtime.txt
COPY cmp ./cmp
COPY bin ./bin
RUN python -m venv /opt/kserve-cmp \
 && /opt/kserve-cmp/bin/pip install --no-cache-dir --require-hashes -r requirements/runtime.txt \
 && /opt/kserve-cmp/bin/pip install --no-cache-dir --no-deps /src \
 && /opt/kserve-cmp/bin/python -c "import yaml; yaml.CSafeLoader" \
 && /opt/kserve-cmp/bin/kserve-cmp --version

# --- the sidecar image ---------------------------------------------------------------------------------
FROM python:3.12.11-slim-bookworm
RUN groupadd --gid 999 argocd \
 && useradd --uid 999 --gid 999 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin argocd
COPY --from=kustomize /usr/local/bin/kustomize /usr/local/bin/kustomize
COPY --from=build /opt/kserve-cmp /opt/kserve-cmp
COPY plugin.yaml /home/argocd/cmp-server/config/plugin.yaml
ENV PATH=/opt/kserve-cmp/bin:$PATH \
    HOME=/tmp \
    TMPDIR=/tmp \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 999:999
WORKDIR /tmp
ENTRYPOINT ["/var/run/argocd/argocd-cmp-server"]

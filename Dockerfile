# Production-like image: Debian with Debian's chromium (for the WhatsApp client); no browser or
# binary is downloaded during the npm install (allowScripts denies puppeteer's download).
# Node 24, the maintained LTS line (Node 20 reached its end of life in April 2026); the code keeps
# running on Node 20 (package.json engines, CI) as well.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
ENV PUPPETEER_SKIP_DOWNLOAD=1
COPY package.json package-lock.json .puppeteerrc.cjs ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium fonts-dejavu-core ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/data CHROMIUM_PATH=/usr/bin/chromium
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json .puppeteerrc.cjs ./
COPY src ./src
COPY locales ./locales
COPY migrations ./migrations
VOLUME ["/data"]
EXPOSE 3000
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--import", "tsx", "src/main.ts"]

# Switchboard container image: the server on its embedded SQLite database in /data, or on
# PostgreSQL with SWITCHBOARD_DATABASE_URL (see compose.yaml and docs/deploy.md).
#
#   docker build -t switchboard .
#   docker run -p 8071:8071 -v switchboard-data:/data switchboard

# Build: the full image has the compilers better-sqlite3 builds with.
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install without the build step (the sources are not copied yet); then compile the SQLite module.
RUN npm ci --no-audit --no-fund --ignore-scripts && npm rebuild better-sqlite3
COPY . .
RUN node scripts/patch-dependencies.mjs && npm run build && npm prune --omit=dev --no-audit --no-fund

# Run: the slim image (same Debian release, so the compiled module loads).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    SWITCHBOARD_ENV=production \
    SWITCHBOARD_HOST=0.0.0.0 \
    SWITCHBOARD_PORT=8071 \
    SWITCHBOARD_DATA_DIR=/data \
    SWITCHBOARD_LOG_FORMAT=json
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/web/dist ./web/dist
COPY --from=build /app/bin ./bin
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8071
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8071/api/v1/health').then(r=>process.exit(r.status===204?0:1),()=>process.exit(1))"]
CMD ["node", "dist/src/main.js", "serve"]

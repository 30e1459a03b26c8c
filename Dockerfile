# sentry-memory: one image for every role (`serve --role web|worker|all`), configured by environment.
# Build: docker build -t sentry-memory .   Run with PostgreSQL: see compose.yaml and README "Running in production".
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
# `npm ci` builds dist/ (the prepare script); then keep production dependencies only.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8787
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
USER node
EXPOSE 8787
# The same command the tests start: `sentry-memory serve`, role and database from the environment
# (SENTRY_MEMORY_ROLE, DATABASE_URL).
ENTRYPOINT ["node", "bin/sentry-memory.js"]
CMD ["serve"]

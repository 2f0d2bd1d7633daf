# One image for every deskport stage; the command picks the stage (see docker-compose.yml).
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
# Prometheus metrics of the stage (DESKPORT_METRICS_PORT); bound to 0.0.0.0 only when
# DESKPORT_METRICS_HOST says so, as docker-compose.yml does.
EXPOSE 9464
ENTRYPOINT ["node", "bin/deskport.js"]

# Build: a static binary (modernc.org/sqlite is pure Go, so CGO stays off).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/wirewatch ./cmd/wirewatch

# Run: a small non-root image with CA certificates and a volume for the database.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/wirewatch /usr/local/bin/wirewatch
COPY config.example.toml /etc/wirewatch/wirewatch.toml
WORKDIR /var/lib/wirewatch
VOLUME ["/var/lib/wirewatch"]
ENV WIREWATCH_CONFIG=/etc/wirewatch/wirewatch.toml
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s CMD ["/usr/local/bin/wirewatch", "health", "--url", "http://127.0.0.1:8080/healthz"]
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/wirewatch"]
CMD ["run"]

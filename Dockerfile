# Build: docker build -t hookrelay .
# Run:   docker run -p 8080:8080 -v hookrelay-data:/data hookrelay
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN mkdir -p /out/data && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/hookrelay ./cmd/hookrelay

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hookrelay /usr/local/bin/hookrelay
COPY --from=build --chown=65532:65532 /out/data /data
VOLUME /data
EXPOSE 8080
ENV HOOKRELAY_DATA=/data HOOKRELAY_LISTEN=:8080
ENTRYPOINT ["/usr/local/bin/hookrelay"]
CMD ["server"]

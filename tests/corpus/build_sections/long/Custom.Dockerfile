FROM alpine AS prod

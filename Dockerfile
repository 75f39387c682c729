# The `dincluster` image: one cluster node per container (docker-compose.yml, docs/docker.md).
#   docker build -t dincluster .
#   docker run --rm dincluster --help
# Needs BuildKit (the default builder since Docker 23) for the NuGet cache mount.
# linux/amd64 only: TorchSharp-cpu ships libtorch for Linux x64 only (on arm64 hosts add
# --platform linux/amd64 and expect emulation to be slow).

FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
WORKDIR /src
COPY . .
# The package cache lives in a cache mount, so libtorch (hundreds of MB) is fetched once, not on
# every source change. RID-specific publish keeps only the linux-x64 native libraries.
RUN --mount=type=cache,id=dincluster-nuget,target=/root/.nuget/packages \
    dotnet publish src/DinCluster.Cli -c Release -r linux-x64 --self-contained false -p:UseAppHost=false -o /out

# Ubuntu 24.04 ("noble") ships GCC 14's libstdc++ (it has GLIBCXX_3.4.32, which TorchSharp-cpu's
# libLibTorchSharp.so needs) and glibc 2.39, so the .native/ libstdc++ workaround of
# scripts/native-runtime.sh (for Debian 12 hosts) is not needed inside this image.
FROM mcr.microsoft.com/dotnet/runtime:10.0-noble
# Fonts for the axis labels of curves.png (ScottPlot/SkiaSharp find no font in a bare image).
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /out .
# /data (behaviour logs) and /runs (run folders, checkpoints) are the volumes of docker-compose.yml;
# owned by the image's non-root user so fresh named volumes are writable.
RUN mkdir -p /data /runs && chown "$APP_UID:$APP_UID" /data /runs
USER $APP_UID
# Container defaults of the environment contract (src/DinCluster.Cli/EnvironmentContract.cs):
# the docker cluster-config overlay, and Akka on a fixed port so seeds and health checks find it.
ENV DINCLUSTER_DEPLOYMENT=docker \
    DINCLUSTER_PORT=4053
# 9090: the Prometheus endpoint when DINCLUSTER_METRICS_PORT=9090 (docker-compose.yml sets it).
EXPOSE 4053 9090
ENTRYPOINT ["dotnet", "dincluster.dll"]
CMD ["node"]

using Akka.Configuration;
using DinCluster.Cluster.Configuration;

namespace DinCluster.Cluster.Tests.Support;

/// <summary>
/// Local ActorSystem with the shipped config, and every message serialized through
/// DinSerializer as if it crossed the wire.
/// </summary>
public static class ActorTestConfig
{
    public static Config Create() =>
        ConfigurationFactory.ParseString("""
            akka.actor.provider = local
            akka.actor.serialize-messages = on
            akka.loglevel = WARNING
            """).WithFallback(ClusterSettings.Create(ClusterConfigFiles.Load(Deployment.Simulated)).ToAkkaConfig());
}

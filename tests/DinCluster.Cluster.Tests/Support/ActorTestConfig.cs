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
            # serialize-messages also serializes Akka's own local messages (StopChild, ...), which have no
            # binding but JSON; nodes never serialize local messages and refuse JSON on the wire (NoJsonSerializer).
            akka.actor.serializers.json = "Akka.Serialization.NewtonSoftJsonSerializer, Akka"
            akka.loglevel = WARNING
            """).WithFallback(ClusterSettings.Create(ClusterConfigFiles.Load(Deployment.Simulated)).ToAkkaConfig());
}

using Akka.Actor;
using Akka.Configuration;
using DinCluster.Cluster.Configuration;
using DinCluster.Cluster.Protocol;
using DinCluster.Cluster.Serialization;

namespace DinCluster.Cluster.Tests.Configuration;

public sealed class ClusterSettingsTests
{
    private static ClusterSettings With(string hocon, Deployment deployment = Deployment.Simulated) =>
        ClusterSettings.Create(ConfigurationFactory.ParseString(hocon).WithFallback(ClusterConfigFiles.Load(deployment)));

    [Theory]
    [InlineData(Deployment.Simulated)]
    [InlineData(Deployment.MultiProcess)]
    [InlineData(Deployment.Docker)]
    public void Settings_validate_when_loaded_from_each_shipped_deployment(Deployment deployment)
    {
        var s = ClusterSettings.Create(ClusterConfigFiles.Load(deployment));
        Assert.Equal("dincluster", s.SystemName);
        Assert.Equal("din", s.SerializerBinding);
        Assert.Equal(4L * 1024 * 1024, s.MaximumFrameSize);
        Assert.Equal(TimeSpan.FromSeconds(3), s.StableAfter);
        Assert.Equal(TimeSpan.FromSeconds(1), s.HeartbeatInterval);
        Assert.Equal(TimeSpan.FromSeconds(5), s.AcceptableHeartbeatPause);
        Assert.Equal(SyncMode.Async, s.Sync);
        Assert.Equal(3, s.Credit);
    }

    [Fact]
    public void Docker_overlay_binds_every_interface_when_loaded()
    {
        var s = ClusterSettings.Create(ClusterConfigFiles.Load(Deployment.Docker));
        Assert.Equal("0.0.0.0", s.BindHostname);
        Assert.Equal(4053, s.Port);
        Assert.Equal("127.0.0.1", ClusterSettings.Create(ClusterConfigFiles.Load(Deployment.Simulated)).Hostname);
    }

    [Fact]
    public void Downed_node_rejoins_by_default_and_stays_out_when_rejoin_is_off()
    {
        var s = ClusterSettings.Create(ClusterConfigFiles.Load(Deployment.MultiProcess));
        Assert.True(s.RejoinWhenDowned);
        // NodeHost restarts on the ClusterDowningReason shutdown that this Akka key triggers.
        Assert.True(s.ToAkkaConfig().GetBoolean("akka.cluster.run-coordinated-shutdown-when-down"));
        Assert.False(With("dincluster.node.rejoin-when-downed = off", Deployment.MultiProcess).RejoinWhenDowned);
    }

    [Fact]
    public void Validator_names_key_value_and_rule_when_message_size_exceeds_frame()
    {
        var ex = Assert.Throws<ConfigurationException>(() => With("dincluster.transport.max-message-bytes = 8MiB"));
        Assert.Contains("dincluster.transport.max-message-bytes is set to 8388608, must be at least 64KiB below", ex.Message);
    }

    [Fact]
    public void Validator_lists_every_problem_when_several_keys_are_wrong()
    {
        var ex = Assert.Throws<ConfigurationException>(() => With("""
            akka.cluster.failure-detector.acceptable-heartbeat-pause = 500ms
            akka.cluster.split-brain-resolver.stable-after = 5m
            dincluster.training.credit = 0
            """));
        Assert.Contains("acceptable-heartbeat-pause is set to 00:00:00.5000000, must be > heartbeat-interval", ex.Message);
        Assert.Contains("stable-after is set to 00:05:00, must be in 1s..60s", ex.Message);
        Assert.Contains("dincluster.training.credit is set to 0, must be >= 1", ex.Message);
    }

    [Fact]
    public void Tls_is_off_by_default_and_validator_names_missing_files_when_a_certificate_is_set()
    {
        var plain = ClusterSettings.Create(ClusterConfigFiles.Load(Deployment.MultiProcess));
        Assert.False(plain.Tls.Enabled);
        Assert.Equal("off", plain.ToAkkaConfig().GetString("akka.remote.dot-netty.tcp.enable-ssl"));
        Assert.Equal("akka.tcp://dincluster@h:1", new NodeAddress("h", 1).ToAkkaAddress("dincluster", plain.Tls.Enabled));

        var ex = Assert.Throws<ConfigurationException>(() => plain.WithTls("/no/such/node.pfx", "pw", null));
        Assert.Contains("dincluster.tls.certificate is set to '/no/such/node.pfx', must be an existing .pfx file", ex.Message);
        Assert.Contains("dincluster.tls.ca is set to '', must be an existing CA certificate file", ex.Message);
        Assert.DoesNotContain("pw", ex.Message.Replace("pfx", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void Validator_rejects_config_when_serializer_binding_is_removed()
    {
        var ex = Assert.Throws<ConfigurationException>(() =>
            With("akka.actor.serialization-bindings { \"DinCluster.Cluster.Protocol.IDinMessage, DinCluster.Cluster\" = newtonsoft }"));
        Assert.Contains("serialization-bindings", ex.Message);
    }

    [Fact]
    public void Sync_spec_parses_async_ssp_and_bsp_and_rejects_other_text()
    {
        Assert.Equal((SyncMode.Async, 0), SyncSpec.Parse("async"));
        Assert.Equal((SyncMode.Ssp, 3), SyncSpec.Parse("ssp:3"));
        Assert.Equal((SyncMode.Bsp, 0), SyncSpec.Parse("BSP"));
        Assert.Contains("must be async, ssp:K", Assert.Throws<FormatException>(() => SyncSpec.Parse("ssp:x")).Message);
    }

    [Fact]
    public void Akka_config_carries_node_address_seeds_and_roles_when_rendered()
    {
        var s = ClusterSettings.Create(ClusterConfigFiles.Load(Deployment.MultiProcess))
            .ForNode("10.0.0.5", 4055, [NodeAddress.Parse("10.0.0.1:4053")], [NodeRole.Worker, NodeRole.DataShard]);
        var akka = s.ToAkkaConfig();
        Assert.Equal("10.0.0.5", akka.GetString("akka.remote.dot-netty.tcp.public-hostname"));
        Assert.Equal(4055, akka.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Equal(["akka.tcp://dincluster@10.0.0.1:4053"], akka.GetStringList("akka.cluster.seed-nodes"));
        Assert.Equal(["worker", "data"], akka.GetStringList("akka.cluster.roles"));
    }

    [Fact]
    public void Seed_parser_rejects_address_when_port_is_missing() =>
        Assert.Contains("host:port", Assert.Throws<FormatException>(() => NodeAddress.Parse("localhost")).Message);

    [Fact]
    public void Actor_system_serializes_every_protocol_message_with_DinSerializer_when_started_from_reference_config()
    {
        var config = ConfigurationFactory.ParseString("akka.actor.provider = local")
            .WithFallback(ClusterSettings.Create(ClusterConfigFiles.Load(Deployment.Simulated)).ToAkkaConfig());
        using var system = ActorSystem.Create("binding-test", config);
        var types = typeof(IDinMessage).Assembly.GetTypes()
            .Where(t => typeof(IDinMessage).IsAssignableFrom(t) && !t.IsInterface).ToList();
        Assert.NotEmpty(types);
        foreach (var t in types)
            Assert.IsType<DinSerializer>(system.Serialization.FindSerializerForType(t));
    }
}

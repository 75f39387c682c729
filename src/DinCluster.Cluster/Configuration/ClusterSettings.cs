using Akka.Configuration;
using DinCluster.Cluster.Protocol;

namespace DinCluster.Cluster.Configuration;

/// <summary>
/// Everything DinCluster reads from cluster-config, parsed once and immutable. <see cref="Create"/>
/// validates; <see cref="ToAkkaConfig"/> renders the node keys into Akka's and returns the config
/// an ActorSystem starts with.
/// </summary>
public sealed record ClusterSettings
{
    public required string SystemName { get; init; }
    public required string Hostname { get; init; }
    /// <summary>"" = bind to <see cref="Hostname"/>.</summary>
    public required string BindHostname { get; init; }
    public required int Port { get; init; }
    public required IReadOnlyList<NodeAddress> Seeds { get; init; }
    public required IReadOnlyList<NodeRole> Roles { get; init; }
    /// <summary>`dincluster node`: a node downed by the cluster starts a fresh ActorSystem and joins its seeds again.</summary>
    public required bool RejoinWhenDowned { get; init; }

    public required int MinWorkers { get; init; }
    public required int MinPs { get; init; }
    public required int MinDataShards { get; init; }
    public required TimeSpan FormationTimeout { get; init; }
    /// <summary>Multi-process: how long the coordinator waits for the nodes it dismisses at the end of a job.</summary>
    public required TimeSpan DismissTimeout { get; init; }

    public required long MaxMessageBytes { get; init; }
    public required long MaximumFrameSize { get; init; }
    public required long SendBufferSize { get; init; }
    public required long ReceiveBufferSize { get; init; }

    public required TimeSpan HeartbeatInterval { get; init; }
    public required TimeSpan AcceptableHeartbeatPause { get; init; }
    public required string DowningProvider { get; init; }
    public required string SbrStrategy { get; init; }
    public required TimeSpan StableAfter { get; init; }

    public required int ComputeThreads { get; init; }
    public required int TorchThreads { get; init; }
    public required string SerializerBinding { get; init; }

    /// <summary>dincluster.training: how workers synchronise, and their prefetch depth.</summary>
    public required SyncMode Sync { get; init; }
    public required int Staleness { get; init; }
    public required int Credit { get; init; }

    /// <summary>dincluster.tls: remoting over mutual TLS when a certificate is set.</summary>
    public required TlsSettings Tls { get; init; }

    /// <summary>The layered HOCON this was parsed from.</summary>
    public required Config Source { get; init; }

    public const string ComputeDispatcher = "dincluster.compute-dispatcher";
    public const string DataDispatcher = "dincluster.data-dispatcher";
    private const string BindingKey = "DinCluster.Cluster.Protocol.IDinMessage, DinCluster.Cluster";

    /// <summary>Parses and validates; throws <see cref="ConfigurationException"/> listing every problem.</summary>
    public static ClusterSettings Create(Config config)
    {
        var s = Parse(config);
        s.Validate();
        return s;
    }

    private static ClusterSettings Parse(Config c)
    {
        const string n = "dincluster.";
        var (sync, staleness) = SyncSpec.Parse(c.GetString(n + "training.sync"));
        var maxMessage = c.GetByteSize(n + "transport.max-message-bytes") ?? 0;
        var bindings = c.GetConfig("akka.actor.serialization-bindings");
        return new ClusterSettings
        {
            SystemName = c.GetString(n + "system-name"),
            Hostname = c.GetString(n + "node.hostname"),
            BindHostname = c.GetString(n + "node.bind-hostname", ""),
            Port = c.GetInt(n + "node.port"),
            Seeds = c.GetStringList(n + "node.seeds").Select(NodeAddress.Parse).ToList(),
            Roles = c.GetStringList(n + "node.roles").Select(RoleNames.Parse).ToList(),
            RejoinWhenDowned = c.GetBoolean(n + "node.rejoin-when-downed", true),
            MinWorkers = c.GetInt(n + "cluster.min-workers"),
            MinPs = c.GetInt(n + "cluster.min-ps"),
            MinDataShards = c.GetInt(n + "cluster.min-data-shards"),
            FormationTimeout = c.GetTimeSpan(n + "cluster.formation-timeout"),
            DismissTimeout = c.GetTimeSpan(n + "cluster.dismiss-timeout"),
            MaxMessageBytes = maxMessage,
            MaximumFrameSize = c.GetByteSize("akka.remote.dot-netty.tcp.maximum-frame-size") ?? 0,
            SendBufferSize = c.GetByteSize("akka.remote.dot-netty.tcp.send-buffer-size") ?? 0,
            ReceiveBufferSize = c.GetByteSize("akka.remote.dot-netty.tcp.receive-buffer-size") ?? 0,
            HeartbeatInterval = c.GetTimeSpan("akka.cluster.failure-detector.heartbeat-interval"),
            AcceptableHeartbeatPause = c.GetTimeSpan("akka.cluster.failure-detector.acceptable-heartbeat-pause"),
            DowningProvider = c.GetString("akka.cluster.downing-provider-class", ""),
            SbrStrategy = c.GetString("akka.cluster.split-brain-resolver.active-strategy", ""),
            StableAfter = c.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"),
            ComputeThreads = c.GetInt(ComputeDispatcher + ".dedicated-thread-pool.thread-count"),
            TorchThreads = c.GetInt(n + "compute.torch-threads"),
            SerializerBinding = bindings?.GetString("\"" + BindingKey + "\"", "") ?? "",
            Sync = sync,
            Staleness = staleness,
            Credit = c.GetInt(n + "training.credit"),
            Tls = new TlsSettings(c.GetString(n + "tls.certificate", ""), c.GetString(n + "tls.password", ""), c.GetString(n + "tls.ca", "")),
            Source = c,
        };
    }

    /// <summary>Throws one <see cref="ConfigurationException"/> naming every key that is out of range.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        void Check(bool ok, string key, object value, string must)
        {
            if (!ok) problems.Add($"{key} is set to {value}, must be {must}");
        }

        Check(SystemName.Length > 0 && SystemName.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_'),
            "dincluster.system-name", $"'{SystemName}'", "a non-empty name of letters, digits, '-' or '_'");
        Check(Hostname.Length > 0, "dincluster.node.hostname", "''", "a hostname or IP address");
        Check(Port is >= 0 and <= 65535, "dincluster.node.port", Port, "in 0..65535 (0 = any free port)");
        Check(MinWorkers >= 1, "dincluster.cluster.min-workers", MinWorkers, ">= 1");
        Check(MinPs >= 1, "dincluster.cluster.min-ps", MinPs, ">= 1");
        Check(MinDataShards >= 1, "dincluster.cluster.min-data-shards", MinDataShards, ">= 1");
        Check(FormationTimeout > TimeSpan.Zero, "dincluster.cluster.formation-timeout", FormationTimeout, "> 0");
        Check(DismissTimeout > TimeSpan.Zero, "dincluster.cluster.dismiss-timeout", DismissTimeout, "> 0");
        Check(MaxMessageBytes >= 64 * 1024, "dincluster.transport.max-message-bytes", MaxMessageBytes, ">= 64KiB (a row of a wide table must fit in one message)");
        Check(MaxMessageBytes + 64 * 1024 <= MaximumFrameSize, "dincluster.transport.max-message-bytes", MaxMessageBytes,
            $"at least 64KiB below akka.remote.dot-netty.tcp.maximum-frame-size ({MaximumFrameSize}) to leave room for the envelope");
        Check(SendBufferSize >= MaximumFrameSize, "akka.remote.dot-netty.tcp.send-buffer-size", SendBufferSize, $">= maximum-frame-size ({MaximumFrameSize})");
        Check(ReceiveBufferSize >= MaximumFrameSize, "akka.remote.dot-netty.tcp.receive-buffer-size", ReceiveBufferSize, $">= maximum-frame-size ({MaximumFrameSize})");
        Check(HeartbeatInterval > TimeSpan.Zero, "akka.cluster.failure-detector.heartbeat-interval", HeartbeatInterval, "> 0");
        Check(AcceptableHeartbeatPause > HeartbeatInterval, "akka.cluster.failure-detector.acceptable-heartbeat-pause", AcceptableHeartbeatPause,
            $"> heartbeat-interval ({HeartbeatInterval})");
        Check(DowningProvider.Contains("SplitBrainResolverProvider", StringComparison.Ordinal), "akka.cluster.downing-provider-class", $"'{DowningProvider}'",
            "Akka.Cluster.SBR.SplitBrainResolverProvider (without a downing provider a dead node is never removed)");
        Check(SbrStrategy == "keep-majority", "akka.cluster.split-brain-resolver.active-strategy", $"'{SbrStrategy}'", "keep-majority");
        Check(StableAfter >= TimeSpan.FromSeconds(1) && StableAfter <= TimeSpan.FromSeconds(60),
            "akka.cluster.split-brain-resolver.stable-after", StableAfter, "in 1s..60s (short: a failover waits for it)");
        Check(ComputeThreads >= 1, ComputeDispatcher + ".dedicated-thread-pool.thread-count", ComputeThreads, ">= 1");
        Check(TorchThreads >= 0, "dincluster.compute.torch-threads", TorchThreads, ">= 0 (0 = automatic)");
        Check(SerializerBinding == "din", "akka.actor.serialization-bindings.\"" + BindingKey + "\"", $"'{SerializerBinding}'",
            "din (else protocol messages go out as JSON)");
        Check(Credit >= 1, "dincluster.training.credit", Credit, ">= 1");
        if (Tls.Enabled)
        {
            Check(File.Exists(Tls.CertificatePath), "dincluster.tls.certificate", $"'{Tls.CertificatePath}'", "an existing .pfx file (scripts/make-certs)");
            Check(Tls.CaPath.Length > 0 && File.Exists(Tls.CaPath), "dincluster.tls.ca", $"'{Tls.CaPath}'",
                "an existing CA certificate file (ca.pem of scripts/make-certs) when a certificate is set");
        }
        Check(MaxMessageBytes <= int.MaxValue, "dincluster.transport.max-message-bytes", MaxMessageBytes, "< 2GiB");

        if (problems.Count > 0) throw new ConfigurationException("invalid cluster configuration:\n  " + string.Join("\n  ", problems));
    }

    /// <summary>The config an ActorSystem of this node starts with: node keys rendered into Akka's.</summary>
    public Config ToAkkaConfig()
    {
        static string Q(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
        var seeds = string.Join(", ", Seeds.Select(a => Q(a.ToAkkaAddress(SystemName, Tls.Enabled))));
        var roles = string.Join(", ", Roles.Select(r => Q(RoleNames.Of(r))));
        var bind = BindHostname.Length > 0 ? BindHostname : Hostname;
        var hocon = $"""
            akka.remote.dot-netty.tcp.hostname = {Q(bind)}
            akka.remote.dot-netty.tcp.public-hostname = {Q(Hostname)}
            akka.remote.dot-netty.tcp.port = {Port}
            akka.cluster.seed-nodes = [{seeds}]
            akka.cluster.roles = [{roles}]
            akka.cluster.role.{RoleNames.Worker}.min-nr-of-members = {MinWorkers}
            akka.cluster.role.{RoleNames.ParameterServer}.min-nr-of-members = {MinPs}
            akka.cluster.role.{RoleNames.DataShard}.min-nr-of-members = {MinDataShards}
            akka.remote.dot-netty.tcp.enable-ssl = {(Tls.Enabled ? "on" : "off")}
            """;
        return ConfigurationFactory.ParseString(hocon).WithFallback(Source);
    }

    /// <summary>TLS files given on the command line or by DINCLUSTER_TLS_* (each null = keep cluster-config's).</summary>
    public ClusterSettings WithTls(string? certificate, string? password, string? ca)
    {
        if (certificate is null && password is null && ca is null) return this;
        var s = this with { Tls = new TlsSettings(certificate ?? Tls.CertificatePath, password ?? Tls.Password, ca ?? Tls.CaPath) };
        s.Validate();
        return s;
    }

    /// <summary>This node's address, seeds and roles (as the command line or the simulated host decides them).</summary>
    public ClusterSettings ForNode(string hostname, int port, IReadOnlyList<NodeAddress> seeds, IReadOnlyList<NodeRole> roles)
    {
        var s = this with { Hostname = hostname, Port = port, Seeds = seeds, Roles = roles };
        s.Validate();
        return s;
    }
}

/// <summary>Mutual TLS for remoting: this node's PKCS#12 certificate (and its password) and the cluster CA's certificate.</summary>
public sealed record TlsSettings(string CertificatePath, string Password, string CaPath)
{
    public bool Enabled => CertificatePath.Length > 0;

    // The password stays out of logs and exception messages.
    public override string ToString() => Enabled ? $"TLS with {CertificatePath}, CA {CaPath}" : "TLS off";
}

namespace DinCluster.Cli;

/// <summary>
/// The container contract: the DINCLUSTER_* environment variables that `dincluster node`, `train`
/// and `health` read when the matching flag is absent (docker-compose.yml and the image set them).
/// Flags win over variables; an empty variable counts as unset. This list is the one place the
/// contract is written down: the help text is printed from it and the Deployment tests check
/// docker-compose.yml and docs/docker.md against it.
/// </summary>
public static class EnvironmentContract
{
    public const string Role = "DINCLUSTER_ROLE";
    public const string Hostname = "DINCLUSTER_HOSTNAME";
    public const string PublicHostname = "DINCLUSTER_PUBLIC_HOSTNAME";
    public const string Port = "DINCLUSTER_PORT";
    public const string Seeds = "DINCLUSTER_SEEDS";
    public const string Deployment = "DINCLUSTER_DEPLOYMENT";
    public const string ClusterConfig = "DINCLUSTER_CLUSTER_CONFIG";
    public const string Threads = "DINCLUSTER_THREADS";
    public const string Data = "DINCLUSTER_DATA";
    public const string Out = "DINCLUSTER_OUT";
    public const string Workers = "DINCLUSTER_WORKERS";
    public const string Ps = "DINCLUSTER_PS";
    public const string DataShards = "DINCLUSTER_DATA_SHARDS";
    public const string MetricsPort = "DINCLUSTER_METRICS_PORT";

    /// <summary>One variable: the flag it stands in for (null = none), the commands that read it, what it sets.</summary>
    public sealed record Variable(string Name, string? Flag, IReadOnlyList<string> Commands, string Description);

    public static IReadOnlyList<Variable> Variables { get; } =
    [
        new(Role, "role", ["node"], "node roles: worker, ps, data, or several joined by ','"),
        new(Hostname, "hostname", ["node", "train"], "address other nodes reach this node at (advertised)"),
        new(PublicHostname, null, ["node", "train"], "advertised address too, wins over DINCLUSTER_HOSTNAME (one name)"),
        new(Port, "port", ["node", "train", "health"], "TCP port (0 = any free port; a seed needs a fixed one)"),
        new(Seeds, "seeds", ["node", "train"], "seed nodes HOST:PORT[,...]; the coordinator is one"),
        new(Deployment, "deployment", ["node", "train", "status"], "multiprocess | docker: the cluster-config overlay"),
        new(ClusterConfig, "cluster-config", ["node", "train", "status"], "HOCON file layered over the deployment overlay"),
        new(Threads, "threads", ["node", "train"], "libtorch intra-op threads (0 = automatic)"),
        new(Data, "data", ["train"], "data folder (train/, test/ Parquet), same path on every node"),
        new(Out, "out", ["train"], "run folder: summary.json, metrics.csv, curves.png, checkpoints/"),
        new(Workers, "workers", ["train"], "workers the coordinator waits for and trains with"),
        new(Ps, "ps", ["train"], "PS shards the coordinator waits for"),
        new(DataShards, "data-shards", ["train"], "data shards the coordinator waits for"),
        new(MetricsPort, "metrics-port", ["node", "train"], "port of the Prometheus endpoint /metrics (unset = none; 0 = any free port)"),
    ];

    /// <summary>The variables <paramref name="command"/> reads.</summary>
    public static IEnumerable<Variable> For(string command) => Variables.Where(v => v.Commands.Contains(command));

    /// <summary>The variable standing in for --<paramref name="flag"/> of <paramref name="command"/>, if any.</summary>
    public static Variable? ForFlag(string command, string flag) =>
        Variables.FirstOrDefault(v => v.Flag == flag && v.Commands.Contains(command));

    /// <summary>Help text: one line per variable <paramref name="command"/> reads (name, flag, what it sets).</summary>
    public static string Describe(string command)
    {
        var vars = For(command).ToList();
        var nameWidth = vars.Max(v => v.Name.Length);
        var flagWidth = vars.Max(v => v.Flag is null ? 1 : v.Flag.Length + 2);
        return string.Join('\n', vars.Select(v =>
            $"  {v.Name.PadRight(nameWidth)}  {(v.Flag is null ? "-" : "--" + v.Flag).PadRight(flagWidth)}  {v.Description}"));
    }
}

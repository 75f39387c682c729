using DinCluster.Cluster.Configuration;
using DinCluster.Cluster.Hosting;

namespace DinCluster.Cli.Commands;

/// <summary>`dincluster node`: one node of a multi-process or multi-host cluster, until the cluster stops it.</summary>
public static class NodeCommand
{
    public static string Help { get; } = FlagsHelp + "\n\n" + EnvironmentHelp;

    private const string FlagsHelp = """
        dincluster node --role ROLES --port P --seeds HOST:PORT[,...] [options]

          --role ROLES            worker, ps, data, or several joined by ',' or '|' (a role may repeat)
          --port P                port to bind (0 = any free port; seeds need a fixed one)
          --seeds HOST:PORT,...   seed nodes to join; the coordinator (`dincluster train --seeds`) is one
          --hostname H            address other nodes reach this node at (default: cluster-config, 127.0.0.1;
                                  under --deployment docker the container's own IPv4 address)
          --deployment multiprocess|docker   which cluster-config overlay (default multiprocess)
          --cluster-config F      HOCON layered over the overlay
          --threads N             libtorch threads (default: cores / workers on this node)
          --metrics-port P        serve Prometheus metrics at http://HOST:P/metrics (0 = any free port)

        The node gets its job (data paths, schema, model) from the coordinator when training starts,
        so every node must see the data folder at the same path. It exits (code 0) when the job ends:
        the coordinator dismisses every node, and a node whose coordinator is gone leaves by itself.
        Exit code 1: it never joined (its seeds did not answer within 60 s, multiprocess.conf).
        """;

    public static int Run(CliArgs args)
    {
        var options = Options(args, CommandEnvironment.Process);
        var metricsPort = new CommandOptions("node", args, CommandEnvironment.Process).MetricsPort();
        args.RejectUnknown();
        using var metrics = CommandOptions.StartMetrics(metricsPort, Console.Out);
        using var cancel = new CancellationTokenSource();
        void OnCancelKey(object? sender, ConsoleCancelEventArgs e)
        {
            e.Cancel = true;
            cancel.Cancel();
        }
        // SIGTERM: Akka's own exit hook also leaves the cluster; this makes the node say so.
        void OnExit(object? sender, EventArgs e) => cancel.Cancel();
        Console.CancelKeyPress += OnCancelKey;
        AppDomain.CurrentDomain.ProcessExit += OnExit;
        try
        {
            return NodeHost.Run(options, Console.Out, cancel.Token).GetAwaiter().GetResult();
        }
        finally
        {
            // ProcessExit also fires after Main returns, when `cancel` is disposed.
            AppDomain.CurrentDomain.ProcessExit -= OnExit;
            Console.CancelKeyPress -= OnCancelKey;
        }
    }

    /// <summary>The node's options from its flags, else the DINCLUSTER_* variables of <paramref name="environment"/>.</summary>
    public static NodeOptions Options(CliArgs args, CommandEnvironment environment)
    {
        var o = new CommandOptions("node", args, environment);
        var roles = o.Require("role").Split([',', '|'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var deployment = o.ReadDeployment();
        return new NodeOptions(
            Roles: roles.Select(ParseRole).ToList(),
            Port: o.Int("port", 0),
            Seeds: o.Seeds() ?? [],
            Deployment: deployment,
            Hostname: o.Hostname(deployment),
            ConfigPath: o.Get("cluster-config"),
            TorchThreads: o.Int("threads", 0));
    }

    private static string EnvironmentHelp =>
        "Environment (the container contract, docs/docker.md): read when the flag is absent; flags win; empty = unset.\n" +
        EnvironmentContract.Describe("node");

    private static Cluster.Protocol.NodeRole ParseRole(string name)
    {
        try
        {
            return RoleNames.Parse(name);
        }
        catch (FormatException e)
        {
            throw new CliException(e.Message);
        }
    }
}

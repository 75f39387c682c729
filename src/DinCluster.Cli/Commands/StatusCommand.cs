using DinCluster.Cluster.Configuration;
using DinCluster.Cluster.Observability;

namespace DinCluster.Cli.Commands;

/// <summary>`dincluster status`: the cluster's members and the job's progress, asked of a seed by a client that does not join.</summary>
public static class StatusCommand
{
    public static string Help { get; } = FlagsHelp + "\n\n" +
        "Environment (the container contract, docs/docker.md): read when the flag is absent; flags win; empty = unset.\n" +
        EnvironmentContract.Describe("status");

    private const string FlagsHelp = """
        dincluster status --seeds HOST:PORT[,...] [options]

          --seeds HOST:PORT,...   nodes to ask, in order, until one answers (any member will do;
                                  the coordinator is the usual seed)
          --hostname H            this client's address the nodes reply to (default: cluster-config, 127.0.0.1;
                                  from another host give an address the cluster can reach)
          --deployment multiprocess|docker   cluster-config overlay (default multiprocess)
          --cluster-config F      HOCON layered over the overlay (the cluster's own, e.g. for its system name)
          --timeout S             seconds to wait for each answer (default 10)

        Prints the members as the answering node sees them (address, roles, status, reachability) and
        the job's progress from the coordinator (state, epoch, steps, samples, last loss, last test AUC).
        The client talks over Akka remoting and does not join, so the cluster is not changed.
        Exit code 0: a node answered; 1: no seed answered.
        """;

    public static int Run(CliArgs args) => Run(args, CommandEnvironment.Process, Console.Out);

    public static int Run(CliArgs args, CommandEnvironment environment, TextWriter output)
    {
        var o = new CommandOptions("status", args, environment);
        var seeds = o.Seeds() ?? throw new CliException("--seeds is required (HOST:PORT of a cluster member, e.g. the coordinator)");
        if (seeds.Count == 0) throw new CliException("--seeds names no address");
        var deployment = o.ReadDeployment();
        var hostname = o.Hostname(deployment);
        var configPath = o.Get("cluster-config");
        var timeout = TimeSpan.FromSeconds(args.Double("timeout", 10));
        args.RejectUnknown();
        var settings = ClusterSettings.Create(ClusterConfigFiles.Load(deployment, configPath));
        if (hostname is not null) settings = settings with { Hostname = hostname };
        try
        {
            var report = StatusClient.Query(settings, seeds, timeout, output).GetAwaiter().GetResult();
            output.WriteLine(StatusClient.Format(report));
            return 0;
        }
        catch (TimeoutException e)
        {
            output.WriteLine($"status: {e.Message}");
            return 1;
        }
    }
}

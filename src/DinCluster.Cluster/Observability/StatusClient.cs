using Akka.Actor;
using Akka.Configuration;
using DinCluster.Cluster.Configuration;
using DinCluster.Cluster.Protocol;

namespace DinCluster.Cluster.Observability;

/// <summary>What one status query found; <see cref="Progress"/> is null when no coordinator answered.</summary>
public sealed record StatusReport(NodeAddress Contacted, ClusterStatus Cluster, JobProgress? Progress, string? ProgressError);

/// <summary>
/// `dincluster status`: a lightweight client, not a member. It starts an ActorSystem with remoting
/// only (provider = remote, a free port, the cluster's serializer and frame sizes), asks the first
/// seed that answers for its view of the cluster (/user/status) and for the job's progress (which
/// that node forwards to the coordinator singleton), and shuts down. Membership is untouched, so
/// the coordinator's counts and the split-brain resolver never see the client.
/// </summary>
public static class StatusClient
{
    public static async Task<StatusReport> Query(ClusterSettings settings, IReadOnlyList<NodeAddress> seeds, TimeSpan timeout, TextWriter? log = null)
    {
        if (seeds.Count == 0) throw new ArgumentException("status needs at least one seed (host:port)", nameof(seeds));
        var client = settings.ForNode(settings.Hostname, 0, [], []);
        var config = ConfigurationFactory.ParseString("""
            akka.actor.provider = remote
            akka.loglevel = WARNING
            """).WithFallback(client.ToAkkaConfig());
        var system = ActorSystem.Create(settings.SystemName, BootstrapSetup.Create().WithConfig(config).And(Hosting.ShutdownNoiseFilter.Setup));
        try
        {
            var failures = new List<string>();
            foreach (var seed in seeds)
            {
                var status = system.ActorSelection($"{seed.ToAkkaAddress(settings.SystemName)}/user/status");
                ClusterStatus cluster;
                try
                {
                    cluster = await status.Ask<ClusterStatus>(GetClusterStatus.Instance, timeout);
                }
                catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or TimeoutException)
                {
                    failures.Add($"{seed}: no answer within {timeout.TotalSeconds:0.#}s");
                    log?.WriteLine($"status: {seed} did not answer; trying the next seed");
                    continue;
                }
                try
                {
                    var progress = await status.Ask<JobProgress>(GetJobProgress.Instance, timeout);
                    return new StatusReport(seed, cluster, progress, null);
                }
                catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or TimeoutException)
                {
                    return new StatusReport(seed, cluster, null, $"no coordinator answered within {timeout.TotalSeconds:0.#}s (no job running, or its node is unreachable)");
                }
            }
            throw new TimeoutException("no seed answered: " + string.Join("; ", failures));
        }
        finally
        {
            await system.Terminate();
        }
    }

    /// <summary>The report as `dincluster status` prints it: a members table, then the job.</summary>
    public static string Format(StatusReport report)
    {
        var c = report.Cluster;
        var lines = new List<string>
        {
            $"cluster seen by {c.Node} (leader {(c.Leader.Length > 0 ? c.Leader : "none")}): {c.Members.Length} member(s)",
        };
        var width = Math.Max(7, c.Members.Select(m => m.Address.Length).DefaultIfEmpty(0).Max());
        var roleWidth = Math.Max(5, c.Members.Select(m => m.Roles.Length).DefaultIfEmpty(0).Max());
        lines.Add($"  {"ADDRESS".PadRight(width)}  {"ROLES".PadRight(roleWidth)}  {"STATUS",-8}  REACHABILITY");
        foreach (var m in c.Members)
            lines.Add($"  {m.Address.PadRight(width)}  {m.Roles.PadRight(roleWidth)}  {m.Status,-8}  {(m.Reachable ? "reachable" : "UNREACHABLE")}");
        if (report.Progress is { } p)
        {
            static string F(double v, string format) => double.IsNaN(v) ? "-" : v.ToString(format, System.Globalization.CultureInfo.InvariantCulture);
            lines.Add($"job: {p.State}, epoch {p.Epoch}/{p.Epochs}, {p.Steps:N0} steps, {p.Samples:N0} samples " +
                $"(this epoch {p.EpochSamples:N0}/{p.EpochSamplesExpected:N0}), last loss {F(p.LastLoss, "F4")}, " +
                $"last test AUC {F(p.LastTestAuc, "F4")}, {p.Workers} worker(s), {p.Seconds:F1}s trained");
        }
        else lines.Add($"job: unknown: {report.ProgressError}");
        return string.Join('\n', lines);
    }
}

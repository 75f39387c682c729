using System.Text.RegularExpressions;
using DinCluster.Cli.Commands;
using DinCluster.Cli.Tests.Support;
using DinCluster.Cluster.Hosting;
using DinCluster.Cluster.Observability;
using DinCluster.Data;
using Xunit.Abstractions;

namespace DinCluster.Cli.Tests.Observability;

/// <summary>
/// The metrics endpoint and `dincluster status` against a simulated cluster while it trains. The
/// job is far longer than the test (200 epochs of 1,200 samples): the test steps through it on the
/// coordinator's epoch lines, scrapes and asks for status in between, then stops the run itself,
/// so every check happens during the run, whatever the machine's speed.
/// </summary>
[Collection(TorchCollection.Name)]
public sealed partial class ObservabilityTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Metrics_endpoint_and_status_report_the_running_cluster_when_scraped_between_epochs()
    {
        const int seed = 11;
        output.WriteLine($"seed {seed}");
        using var dir = new TempDir();
        var data = dir.File("data");
        TrainData.Write(data, "train", "part-0.parquet", TrainData.Schema(), TrainData.Random(1200, seed), rowGroupSize: 100);
        TrainData.Write(data, "test", "part-0.parquet", TrainData.Schema(), TrainData.Random(200, seed + 1), rowGroupSize: 100);
        var job = TrainData.Job(data, dir.File("run"), BadInputPolicy.Fail) with { Epochs = 200, PsShards = 2 };

        using var server = MetricsServer.Start(0);
        output.WriteLine($"metrics on port {server.Port}");
        var log = new LineSignals();
        using var stop = new CancellationTokenSource();
        var run = ClusterRunner.RunSimulated(job, new ClusterShapeOptions(Workers: 2, DataShards: 2), log, ct: stop.Token);
        try
        {
            // Console lines of the coordinator name its node: "[coordinator 127.0.0.1:PORT] epoch 1: ...".
            var epoch1 = await log.WaitFor("] epoch 1:", Deadline);
            var coordinator = CoordinatorPrefix().Match(epoch1);
            Assert.True(coordinator.Success, $"the epoch line does not name the coordinator node: '{epoch1}'");
            var address = coordinator.Groups[1].Value;
            var first = await Scrape.Get(server.Port);
            // The second scrape comes after the epoch that follows the one being trained at the first, so every
            // counter below has moved between the two however fast the epochs (1,200 samples each) go by.
            var trainedAtFirst = (int)first.Sum("din_job_epoch", $"node=\"{address}\"");
            await log.WaitFor($"] epoch {Math.Max(2, trainedAtFirst + 1)}:", Deadline);
            var second = await Scrape.Get(server.Port);
            // Membership converges by gossip: the coordinator's node may still list a node as joining a
            // moment after the others see it up. Scrape again until its view has converged (AwaitAssert-style,
            // bounded by the deadline); every counter below only grows, so a later scrape serves them too.
            var self0 = $"node=\"{address}\"";
            var until = DateTime.UtcNow + Deadline;
            while (second.Sum("din_cluster_members", self0, "status=\"up\"") < 7 && DateTime.UtcNow < until)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200));
                second = await Scrape.Get(server.Port);
            }
            output.WriteLine(second.Text);

            // Counters move between the two scrapes; epoch 1 alone trained 1,200 samples.
            var samples1 = first.Sum("din_samples_trained_total");
            var samples2 = second.Sum("din_samples_trained_total");
            output.WriteLine($"samples trained: {samples1} at the first scrape, {samples2} at the second");
            Assert.InRange(samples1, 1200, double.MaxValue);
            Assert.True(samples2 >= 2400 && samples2 > samples1, $"samples counter did not move: {samples1} -> {samples2}");
            Assert.True(second.Sum("din_steps_total") > first.Sum("din_steps_total"));
            Assert.True(second.Sum("din_step_seconds_count") > 0 && second.Sum("din_step_seconds_sum") > 0);
            Assert.True(second.Sum("din_pull_bytes_total") > first.Sum("din_pull_bytes_total"));
            Assert.True(second.Sum("din_push_bytes_total") > first.Sum("din_push_bytes_total"));
            Assert.True(second.Sum("din_pull_seconds_count") > 0 && second.Sum("din_push_seconds_count") > 0);
            // PS shards hold rows and memory; both shards report.
            Assert.Equal(2, second.Series("din_ps_rows"));
            Assert.True(second.Sum("din_ps_rows", "shard=\"0\"") > 0 && second.Sum("din_ps_rows", "shard=\"1\"") > 0);
            Assert.True(second.Sum("din_ps_memory_bytes") > 0);
            Assert.Equal(2, second.Series("din_ps_evictions"));
            // Queue depths are reported per worker and per data shard.
            Assert.Equal(2, second.Series("din_worker_queue_batches"));
            Assert.Equal(2, second.Series("din_data_outstanding_credit"));
            // Membership as the coordinator's node sees it: 1 coordinator, 2 workers, 2 PS, 2 data shards, all up.
            var self = $"node=\"{address}\"";
            Assert.Equal(1, second.Sum("din_cluster_members", self, "role=\"coordinator\"", "status=\"up\""));
            Assert.Equal(2, second.Sum("din_cluster_members", self, "role=\"worker\"", "status=\"up\""));
            Assert.Equal(2, second.Sum("din_cluster_members", self, "role=\"ps\"", "status=\"up\""));
            Assert.Equal(2, second.Sum("din_cluster_members", self, "role=\"data\"", "status=\"up\""));
            Assert.Equal(0, second.Sum("din_cluster_unreachable_members", self));
            // The job's gauges on the coordinator's node, and every node's identity.
            Assert.True(second.Sum("din_job_epoch", self) >= 2);
            Assert.True(second.Sum("din_job_samples", self) >= 2400);
            Assert.Equal(1, second.Sum("din_job_running", self));
            Assert.Equal(3, second.Series("din_node_info"));

            // `dincluster status` against the coordinator, still during the run (epoch 2 of 200 just ended).
            var text = new StringWriter();
            var code = await Task.Run(() => StatusCommand.Run(new CliArgs(["--seeds", address, "--timeout", "30"]),
                new CommandEnvironment(_ => null, () => "127.0.0.1"), text));
            output.WriteLine(text.ToString());
            Assert.Equal(0, code);
            var status = text.ToString().Split('\n');
            Assert.Contains(status, l => l.StartsWith($"cluster seen by {address}", StringComparison.Ordinal) && l.Contains("3 member(s)", StringComparison.Ordinal));
            Assert.Contains(status, l => l.Contains(address, StringComparison.Ordinal) && l.Contains("coordinator", StringComparison.Ordinal) && l.Contains(" up ", StringComparison.Ordinal) && l.EndsWith("reachable", StringComparison.Ordinal));
            Assert.Equal(3, status.Count(l => StatusMemberLine().IsMatch(l)));
            var job1 = status.Single(l => l.StartsWith("job: ", StringComparison.Ordinal));
            var progress = JobLine().Match(job1);
            Assert.True(progress.Success, $"unexpected job line '{job1}'");
            Assert.InRange(int.Parse(progress.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture), 2, 200);
            Assert.DoesNotContain("last loss -", job1, StringComparison.Ordinal);
        }
        finally
        {
            await stop.CancelAsync();
            try
            {
                await run.WaitAsync(Deadline);
            }
            catch (OperationCanceledException)
            {
                // The test stopped the run.
            }
            output.WriteLine(string.Join('\n', log.Lines));
        }
    }

    [Fact]
    public void Status_exits_1_naming_the_seed_when_no_seed_answers()
    {
        // A port nothing listens on (bound, then released): the client's ask times out.
        var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var text = new StringWriter();
        var code = StatusCommand.Run(new CliArgs(["--seeds", $"127.0.0.1:{port}", "--timeout", "2"]), new CommandEnvironment(_ => null, () => "127.0.0.1"), text);
        output.WriteLine(text.ToString());
        Assert.Equal(1, code);
        Assert.Contains($"no seed answered: 127.0.0.1:{port}: no answer within 2s", text.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Status_refuses_to_run_when_no_seed_is_given()
    {
        var e = Assert.Throws<CliException>(() => StatusCommand.Run(new CliArgs([]), new CommandEnvironment(_ => null, () => "127.0.0.1"), new StringWriter()));
        Assert.Contains("--seeds is required", e.Message, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"\[coordinator (127\.0\.0\.1:\d+)\] epoch 1:")]
    private static partial Regex CoordinatorPrefix();

    [GeneratedRegex(@"^  127\.0\.0\.1:\d+\s+\S+\s+up\s+reachable$")]
    private static partial Regex StatusMemberLine();

    [GeneratedRegex(@"^job: (training|evaluating|checkpointing), epoch (\d+)/200, [\d,]+ steps, [\d,]+ samples")]
    private static partial Regex JobLine();
}

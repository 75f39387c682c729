using System.Globalization;
using System.Text.RegularExpressions;
using DinCluster.Cluster.Runs;
using DinCluster.Cluster.Tests.Support;
using DinCluster.Data;
using DinCluster.Cluster.Tests.MultiProcess.FaultSuite;
using Xunit.Abstractions;

namespace DinCluster.Cluster.Tests.MultiProcess;

/// <summary>
/// Hosts with their own addresses: scripts/netns-cluster runs the coordinator, 2 PS, 2 data and
/// 2 worker nodes each in its own network namespace (7 addresses on a private bridge). Needs root;
/// skips with the reason otherwise. The fault-free run is shared by both tests (the partition
/// scenario compares its test AUC with it).
/// </summary>
[Trait("Category", "MultiProcess")]
[Collection(TorchCollection.Name)]
public sealed partial class NetnsClusterTests(NetnsClusterFixture fixture, ITestOutputHelper output) : IClassFixture<NetnsClusterFixture>
{
    /// <summary>The outage the scenario asks for (issue 6: a node cut off for 30 s).</summary>
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(8);
    private static readonly TimeSpan EventTimeout = TimeSpan.FromMinutes(3);

    [SkippableFact]
    public async Task Seven_nodes_in_their_own_namespaces_train_to_completion_with_exact_ledgers_when_started_by_netns_cluster()
    {
        Skip.If(NetnsClusterScript.Unsupported is not null, NetnsClusterScript.Unsupported);
        var run = await fixture.Baseline(output);
        output.WriteLine(run.Output);
        Assert.True(run.ExitCode == 0, $"netns-cluster exited {run.ExitCode}");

        var summary = run.Summary;
        CheckCompleted(summary, fixture.Dataset);
        Assert.Equal(0, summary.Epochs.Sum(e => e.SamplesReplayed));
        Assert.Empty(summary.Failures);
        var last = summary.Epochs[^1].Test!;
        output.WriteLine($"fault-free: test AUC {last.Auc:F4} GAUC {last.Gauc:F4} (Bayes {fixture.Dataset.BayesTestAuc:F4})");
        Assert.True(last.Auc > 0.75, $"test AUC {last.Auc}");
        Assert.True(last.Gauc > 0.72, $"test GAUC {last.Gauc}");
        Assert.Equal(NetnsClusterFixture.Epochs, summary.Checkpoints.Count);
        Assert.All(summary.Checkpoints, c => Assert.True(Directory.Exists(Path.Combine(run.Dir, c)), $"checkpoint {c} missing"));

        var nodes = Path.Combine(run.Dir, "nodes");
        // Seven processes, seven addresses: each node's remoting listened on its own namespace IP.
        var listening = NodeNames.ToDictionary(n => n, n => ListeningAddress().Match(File.ReadAllText(Path.Combine(nodes, n + ".log"))).Groups[1].Value);
        foreach (var (name, address) in listening) output.WriteLine($"{name} listened on {address}");
        Assert.All(listening, kv => Assert.StartsWith("10.77.0.", kv.Value));
        Assert.Equal(NodeNames.Length, listening.Values.Distinct().Count());
        foreach (var name in NodeNames)
        {
            // As in docker-compose.yml, every node serves its metrics on 9090 (inside its namespace).
            Assert.Contains(":9090/metrics", File.ReadAllText(Path.Combine(nodes, name + ".log")), StringComparison.Ordinal);
            Assert.Equal("exited 0", File.ReadAllText(Path.Combine(nodes, name + ".exit")).Trim());
            var errors = File.ReadLines(Path.Combine(nodes, name + ".log")).Where(l => l.StartsWith("[ERROR]", StringComparison.Ordinal)).ToList();
            Assert.True(errors.Count == 0, $"{name}.log has ERROR lines:\n{string.Join('\n', errors)}");
        }

        // The nodes are configured as docker-compose.yml configures its services: DINCLUSTER_* variables only,
        // each one a variable the compose file sets too.
        var compose = File.ReadAllText(Path.Combine(LocalClusterScript.RepoRoot, "docker-compose.yml"));
        foreach (var name in NodeNames)
        {
            var vars = File.ReadAllLines(Path.Combine(nodes, name + ".env")).Select(l => l.Split('=', 2)[0]).ToList();
            Assert.All(vars, v => Assert.True(v.StartsWith("DINCLUSTER_", StringComparison.Ordinal) && compose.Contains(v + ":", StringComparison.Ordinal),
                $"{name}: {v} is not a variable docker-compose.yml sets"));
            Assert.Contains(name == "coordinator" ? "DINCLUSTER_DATA" : "DINCLUSTER_ROLE", vars);
        }

        // Everything the run created is gone: no namespace of its id is left.
        var id = File.ReadLines(Path.Combine(nodes, "cluster.txt")).First(l => l.StartsWith("id=", StringComparison.Ordinal))[3..];
        var (_, list) = await NetnsClusterScript.Run(["list"], TimeSpan.FromSeconds(30));
        Assert.DoesNotContain($"dinc-{id}-", list);
    }

    /// <summary>
    /// Issue 6, scenario "partition": worker-1's link is taken down for 30 s. The majority (6 of 7) downs
    /// it through the split-brain resolver and the job goes on with one worker, its unacked batches
    /// re-issued; worker-1 downs itself (minority), restarts its ActorSystem and, once the link is up,
    /// rejoins as a new member (new uid; the run does not use it). The job completes with exact ledgers.
    /// </summary>
    [SkippableFact]
    [Trait("Category", "FaultSuite")]
    public async Task Partitioned_worker_is_downed_and_rejoins_as_a_new_member_while_the_job_completes_with_exact_ledgers()
    {
        var report = new FaultRow("partition", "failed", null, null, null, null, null, null, "");
        if (NetnsClusterScript.Unsupported is { } reason)
        {
            (report with { Outcome = $"skipped: {reason}", Note = "netns scenario" }).Write();
            Skip.If(true, reason);
        }
        try
        {
            report = await Partition(report);
            report = report with { Outcome = "passed" };
        }
        catch (Exception e)
        {
            report = report with { Outcome = "failed", Note = (report.Note + " " + e.Message.Split('\n')[0]).Trim() };
            throw;
        }
        finally
        {
            output.WriteLine($"fault-suite row: {report.Write()}");
            output.WriteLine(report.ToString());
        }
    }

    private async Task<FaultRow> Partition(FaultRow report)
    {
        var baseline = await fixture.Baseline(output);
        Assert.True(baseline.Summary.Status == "completed", $"the fault-free run {baseline.Summary.Status}: {baseline.Summary.Error}");
        var baselineAuc = baseline.Summary.Epochs[^1].Test!.Auc;
        report = report with { BaselineAuc = baselineAuc };

        var dir = Path.Combine(fixture.Root, "partition");
        var nodes = Path.Combine(dir, "nodes");
        string Log(string name) => ReadShared(Path.Combine(nodes, name + ".log"));
        await using var script = NetnsClusterScript.Start(dir, fixture.Args);
        try
        {
            // Training is under way once the coordinator has written its first metrics row (every 50 steps).
            await WaitFor(() => File.Exists(Path.Combine(dir, "metrics.csv")) && ReadShared(Path.Combine(dir, "metrics.csv")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length >= 2,
                "training under way (first metrics.csv row)", script);
            var victimIp = File.ReadLines(Path.Combine(nodes, "netns.txt")).Select(l => l.Split(' ')).First(p => p[0] == "node" && p[1] == "worker-1")[3];
            var victim = $"akka.tcp://dincluster@{victimIp}:4053";
            output.WriteLine($"cutting worker-1 ({victim})");

            var (cutCode, cutText) = await NetnsClusterScript.Run(["cut", dir, "worker-1"], TimeSpan.FromSeconds(30));
            Assert.True(cutCode == 0, $"cut: {cutText}");
            var cutAt = LinkTime(nodes, "cut");

            // Observable events, not sleeps: the majority marks the worker unreachable, the split-brain
            // resolver downs it, the leader removes it and the coordinator drops it from the job.
            await WaitFor(() => Log("coordinator").Contains($"({victim}) is gone", StringComparison.Ordinal), "the coordinator drops the cut worker", script);
            var coordinatorLog = Log("coordinator");
            var unreachableAt = LogTime(coordinatorLog, $"Marking node(s) as UNREACHABLE [Member(address = {victim}");
            var removedAt = LogTime(coordinatorLog, $"Leader is removing unreachable node [{victim}]");
            await WaitFor(() => Log("worker-1").Contains("was downed by the cluster; restarting", StringComparison.Ordinal), "worker-1 downs itself (minority) and restarts", script);
            output.WriteLine($"unreachable after {(unreachableAt - cutAt).TotalSeconds:F1}s, removed after {(removedAt - cutAt).TotalSeconds:F1}s");

            // The outage itself is the scenario's real-time requirement (a node cut off for 30 s), measured
            // from the cut: this is not a wait for synchronisation (that is the removal above).
            var remaining = cutAt + Outage - DateTime.UtcNow;
            if (remaining > TimeSpan.Zero) await Task.Delay(remaining);
            Assert.False(script.HasExited || File.Exists(Path.Combine(nodes, "coordinator.exit")),
                "the job ended before the link came back: the scenario needs a longer job (more samples or epochs)");
            var (healCode, healText) = await NetnsClusterScript.Run(["heal", dir, "worker-1"], TimeSpan.FromSeconds(30));
            Assert.True(healCode == 0, $"heal: {healText}");
            var healedAt = LinkTime(nodes, "healed");

            // The restarted ActorSystem (a new uid) joins again and is moved to Up: two Up moves of that address.
            var up = $"Leader is moving node [{victim}] to [Up]";
            await WaitFor(() => Count(Log("coordinator"), up) >= 2,
                "worker-1 rejoins as a new member (second move to Up) before the job ends; if the job ended first, raise DINCLUSTER_TEST_NETNS_SAMPLES", script);
            var rejoinedAt = LogTimes(Log("coordinator"), up)[1];
            Assert.Contains("restarted (incarnation 2", Log("worker-1"), StringComparison.Ordinal);
            output.WriteLine($"healed after {(healedAt - cutAt).TotalSeconds:F1}s; Up again {(rejoinedAt - healedAt).TotalSeconds:F1}s after the heal");

            var code = await script.WaitForExit("the job completes on the majority", RunTimeout);
            output.WriteLine(script.Output);
            var summary = RunSummary.Read(Path.Combine(dir, "summary.json"));
            var final = summary.Epochs.Count > 0 ? summary.Epochs[^1] : null;
            report = report with
            {
                SamplesConsumed = summary.Epochs.Sum(e => e.SamplesConsumed),
                SamplesExpected = summary.Epochs.Sum(e => e.SamplesExpected),
                SamplesReplayed = summary.Epochs.Sum(e => e.SamplesReplayed),
                TestAuc = final?.Test?.Auc,
                RecoverySeconds = Math.Round((removedAt - cutAt).TotalSeconds, 1),
                Note = $"netns, 7 nodes; worker-1's link down {(healedAt - cutAt).TotalSeconds:F0}s; recovery = cut -> removed by the majority " +
                    $"(unreachable {(unreachableAt - cutAt).TotalSeconds:F1}s, then the split-brain resolver's stable-after); rejoined as a new member {(rejoinedAt - healedAt).TotalSeconds:F1}s after the heal",
            };
            Assert.True(code == 0, $"netns-cluster exited {code}");
            CheckCompleted(summary, fixture.Dataset);
            Assert.Contains(summary.Failures, f => f.Kind == "worker lost" && f.Node.Contains(victimIp, StringComparison.Ordinal));
            // Every process ended by itself, the restarted worker too (dismissed at the end of the job).
            foreach (var name in NodeNames)
                Assert.Equal("exited 0", File.ReadAllText(Path.Combine(nodes, name + ".exit")).Trim());
            var auc = final!.Test!.Auc;
            output.WriteLine($"test AUC {auc:F4} vs fault-free {baselineAuc:F4} ({auc - baselineAuc:+0.0000;-0.0000})");
            var within = auc >= baselineAuc - 0.005;
            report = report with { Note = report.Note + $"; AUC {auc - baselineAuc:+0.0000;-0.0000} vs fault-free ({(within ? "" : "NOT ")}within the issue's 0.005)" };
            // One-sided: after the cut the job trains with ONE worker, whose updates are never stale, and may end
            // higher. On this set (few ids, plateau within the first epoch) async runs of the same seed agree
            // closely (partition runs: -0.0003, -0.0005), so the issue's 0.005 is asserted.
            Assert.True(within, $"test AUC {auc:F4} is more than 0.005 below the fault-free run's {baselineAuc:F4}");
            Assert.True(auc <= fixture.Dataset.BayesTestAuc, $"test AUC {auc:F4} above the Bayes-optimal {fixture.Dataset.BayesTestAuc:F4}");
            return report;
        }
        catch
        {
            output.WriteLine(script.Output);
            KeepLogs(nodes, "partition");
            throw;
        }
    }

    /// <summary>A failed scenario's node logs are kept beside its fault-suite row (the run folder is temporary).</summary>
    private void KeepLogs(string nodes, string scenario)
    {
        if (!Directory.Exists(nodes)) return;
        var keep = Path.Combine(FaultRow.ReportDir, scenario + "-logs");
        Directory.CreateDirectory(keep);
        foreach (var f in Directory.GetFiles(nodes)) File.Copy(f, Path.Combine(keep, Path.GetFileName(f)), overwrite: true);
        output.WriteLine($"node logs kept in {keep}");
    }

    private static readonly string[] NodeNames = ["coordinator", "ps-0", "ps-1", "data-0", "data-1", "worker-0", "worker-1"];

    private static void CheckCompleted(RunSummary summary, SyntheticDataset dataset)
    {
        Assert.True(summary.Status == "completed", $"run {summary.Status}: {summary.Error}");
        Assert.Equal("multiprocess", summary.Mode);
        Assert.Equal(7, summary.Cluster.Nodes);
        Assert.Equal(2, summary.Cluster.Workers);
        Assert.Equal(2, summary.Cluster.PsShards);
        Assert.Equal(2, summary.Cluster.DataShards);
        Assert.Equal(NetnsClusterFixture.Epochs, summary.Epochs.Count);
        foreach (var e in summary.Epochs)
        {
            Assert.Equal(dataset.Train.Samples, e.SamplesExpected);
            Assert.True(e.SamplesConsumed == e.SamplesExpected, $"epoch {e.Epoch}: consumed {e.SamplesConsumed} of {e.SamplesExpected}");
            Assert.True(e.LedgerExact, $"epoch {e.Epoch}: ledger not exact");
            Assert.True(double.IsFinite(e.TrainLoss), $"epoch {e.Epoch}: train loss {e.TrainLoss}");
            Assert.NotNull(e.Test);
            Assert.Equal(dataset.Test.Samples, e.Test.Samples);
        }
    }

    /// <summary>Polls a condition on the run's files until it holds; fails naming <paramref name="phase"/> after a deadline or if the run ended.</summary>
    private static async Task WaitFor(Func<bool> condition, string phase, NetnsClusterScript script)
    {
        var deadline = DateTime.UtcNow + EventTimeout;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        while (!condition())
        {
            if (script.HasExited && !condition()) throw new InvalidOperationException($"phase '{phase}': netns-cluster ended first; its output:\n{script.Output}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"phase '{phase}' did not happen within {EventTimeout.TotalSeconds:0}s; netns-cluster output so far:\n{script.Output}");
            await timer.WaitForNextTickAsync();
        }
    }

    /// <summary>A log file that its process is still writing.</summary>
    private static string ReadShared(string path)
    {
        if (!File.Exists(path)) return "";
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return new StreamReader(stream).ReadToEnd();
    }

    private static int Count(string text, string needle) => LogTimes(text, needle).Count;

    private static DateTime LogTime(string log, string needle) =>
        LogTimes(log, needle) is { Count: > 0 } t ? t[0] : throw new InvalidOperationException($"no log line with '{needle}'");

    /// <summary>Timestamps of log lines holding <paramref name="needle"/>: "[LEVEL][yyyy-MM-ddTHH:mm:ss.fffZ]..." (the
    /// nodes' logger), or Akka's default "[LEVEL][MM/dd/yyyy HH:mm:ss.fffZ]...".</summary>
    private static List<DateTime> LogTimes(string log, string needle) =>
        [.. log.Split('\n').Where(l => l.Contains(needle, StringComparison.Ordinal)).Select(l => AkkaTime().Match(l)).Where(m => m.Success)
            .Select(m => DateTime.ParseExact(m.Groups[1].Value, ["yyyy-MM-ddTHH:mm:ss.fff", "MM/dd/yyyy HH:mm:ss.fff"], CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal))];

    /// <summary>UTC time of the last `cut`/`healed` line in links.log ("2026-01-01T10:00:00.123Z cut worker-1").</summary>
    private static DateTime LinkTime(string nodes, string what)
    {
        var line = File.ReadLines(Path.Combine(nodes, "links.log")).Last(l => l.Split(' ')[1] == what);
        return DateTime.Parse(line.Split(' ')[0], CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
    }

    [GeneratedRegex(@"^\[[A-Z]+\]\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}|\d\d/\d\d/\d{4} \d\d:\d\d:\d\d\.\d{3})Z\]")]
    private static partial Regex AkkaTime();

    [GeneratedRegex(@"listening on addresses : \[akka\.tcp://dincluster@([0-9.]+):4053\]")]
    private static partial Regex ListeningAddress();
}

/// <summary>The synthetic set and the fault-free 7-node run, made once for the class (lazily: nothing runs when the tests skip).</summary>
public sealed class NetnsClusterFixture : IDisposable
{
    public const int Epochs = 2;
    private const ulong DataSeed = 11;
    private readonly TempDir _dir = new();
    private readonly SemaphoreSlim _lock = new(1, 1);
    private SyntheticDataset? _dataset;
    private BaselineRun? _baseline;

    public string Root => _dir.Path;

    public SyntheticDataset Dataset => _dataset ?? throw new InvalidOperationException("no data yet: call Baseline first");

    /// <summary>
    /// The job of both tests: 2 epochs of 432,000 samples (48,000 test), small dims, batch 128. The partition
    /// test needs the job to outlive the 30 s outage plus the rejoin (~6-9 s) after the cut: at ~21,000-23,000
    /// samples/s (2 workers) and ~17,000 (1 worker, during the cut) about 45 s of training is left after it.
    /// 288,000 per epoch still sufficed (once the CLI ran without tiered compilation and workers on cores - 1
    /// threads) but with only a few seconds to spare; 202,500 once finished before the rejoin. On a faster
    /// machine raise DINCLUSTER_TEST_NETNS_SAMPLES; the partition test says when the job ended first.
    /// Two long epochs rather than three short ones. 300 users and 600 items (the fault suite's set) and
    /// Adam's default dense lr: with the default 10,000 users / 20,000 items and dense lr 0.003, async runs
    /// with the same seed differed in test AUC by up to ~0.005 (0.8053 and 0.8102; later 0.8043 and 0.8008),
    /// so the partition row missed the issue's 0.005 in one suite run (+0.0078).
    /// </summary>
    public IReadOnlyList<string> Args =>
    [
        "--data", Path.Combine(Root, "data"), "--workers", "2", "--ps", "2", "--data-shards", "2",
        "--epochs", Epochs.ToString(CultureInfo.InvariantCulture), "--embedding-dim", "16", "--batch-size", "128",
        "--sparse-lr", "0.1", "--dense-lr", "0.001", "--seed", "3",
    ];

    public async Task<BaselineRun> Baseline(ITestOutputHelper output)
    {
        await _lock.WaitAsync();
        try
        {
            if (_baseline is not null) return _baseline;
            var samples = int.TryParse(Environment.GetEnvironmentVariable("DINCLUSTER_TEST_NETNS_SAMPLES"), out var n) ? n : 480_000;
            // Few ids (as the fault suite's set): the model reaches its plateau within the first epoch, so async runs
            // of the same seed agree closely and the 0.005 comparison measures the partition, not the run-to-run spread.
            _dataset = SyntheticGenerator.Generate(Path.Combine(Root, "data"), new SyntheticSettings
            {
                Samples = samples, Seed = DataSeed, Users = 300, Items = 600, Categories = 30, HistoryMax = 20,
            });
            output.WriteLine($"{samples:N0} samples (DINCLUSTER_TEST_NETNS_SAMPLES overrides)");
            output.WriteLine($"synthetic set (seed {DataSeed}): {_dataset.Train.Samples:N0} train / {_dataset.Test.Samples:N0} test samples, Bayes AUC {_dataset.BayesTestAuc:F4}; train seed 3");
            var dir = Path.Combine(Root, "fault-free");
            await using var script = NetnsClusterScript.Start(dir, Args);
            var code = await script.WaitForExit("fault-free 7-node run", TimeSpan.FromMinutes(8));
            var summary = RunSummary.Read(Path.Combine(dir, "summary.json"));
            return _baseline = new BaselineRun(dir, code, script.Output, summary);
        }
        finally
        {
            _lock.Release();
        }
    }

    public void Dispose()
    {
        _lock.Dispose();
        _dir.Dispose();
    }
}

public sealed record BaselineRun(string Dir, int ExitCode, string Output, RunSummary Summary);

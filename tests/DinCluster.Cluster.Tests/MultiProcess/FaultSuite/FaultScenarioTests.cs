using System.Diagnostics;
using System.Text.RegularExpressions;
using DinCluster.Cluster.Runs;
using DinCluster.Cluster.Tests.Support;
using DinCluster.Core.Features;
using DinCluster.Data;
using Xunit.Abstractions;

namespace DinCluster.Cluster.Tests.MultiProcess.FaultSuite;

/// <summary>
/// Fault scenarios against a real cluster of processes on 127.0.0.1 (scripts/local-cluster: coordinator,
/// 2 PS, 1 data shard, 2 workers), each writing its row of the fault-suite table (see <see cref="FaultRow"/>).
/// Faults are real: SIGKILL, SIGSTOP/SIGCONT of a node process, a Parquet file corrupted on disk.
/// </summary>
[Trait("Category", "FaultSuite")]
[Trait("Category", "MultiProcess")]
[Collection(TorchCollection.Name)]
public sealed partial class FaultScenarioTests(ITestOutputHelper output)
{
    private static readonly string[] Nodes = ["coordinator", "ps-0", "ps-1", "data-0", "worker-0", "worker-1"];

    /// <summary>Records the row whatever happens: passed with what <paramref name="body"/> measured, or failed with why.</summary>
    private async Task Scenario(string name, Func<Task<FaultRow>> body)
    {
        try
        {
            var row = await body();
            row.Write();
            output.WriteLine($"{name}: {row}");
        }
        catch (Exception e)
        {
            new FaultRow(name, "failed", null, null, null, null, null, null, e.Message.Split('\n')[0]).Write();
            throw;
        }
    }

    [Fact]
    public Task Worker_killed_mid_epoch_is_replaced_by_reissued_batches_with_every_sample_consumed_once() =>
        Scenario("worker-kill", () => WorkerKill("worker-kill", "fault-free", FaultSuiteCluster.TrainArgs, "async"));

    /// <summary>
    /// The same kill in bsp, whose fault-free run is repeatable to ~0.001 in test AUC (0.7536 in 4 runs), so the
    /// difference is nearly all the fault's own: the killed worker's part of the step in flight is dropped and re-issued.
    /// </summary>
    [Fact]
    public Task Worker_killed_mid_epoch_in_bsp_lands_on_the_fault_free_bsp_runs_test_auc() =>
        Scenario("worker-kill-bsp", () => WorkerKill("worker-kill-bsp", "fault-free-bsp", FaultSuiteCluster.BspArgs, "bsp"));

    private async Task<FaultRow> WorkerKill(string scenario, string baselineScenario, IReadOnlyList<string> args, string mode)
    {
        var data = FaultSuiteCluster.Data(output);
        var baseline = await FaultSuiteCluster.BaselineAuc(output, baselineScenario, data, args);
        using var dir = new TempDir();
        await using var run = ClusterProcessRun.Start(data, Path.Combine(dir.Path, "run"), args);

        await run.WaitUntil(() => run.LastStep() is (1, >= 30), FaultSuiteCluster.RunTimeout, "epoch 1 past global step 30");
        var pid = run.Pid("worker-1");
        var killed = DateTime.UtcNow;
        ClusterProcessRun.Signal(pid, ClusterProcessRun.SigKill);
        output.WriteLine($"SIGKILL worker-1 (pid {pid}) at {killed:O}, global step {run.LastStep().Step}");

        var code = await run.WaitForExit(FaultSuiteCluster.RunTimeout, "training after the worker was killed");
        output.WriteLine(run.Output);
        output.WriteLine(run.Log("coordinator"));
        var summary = run.Summary();
        Assert.True(summary.Status == "completed", $"run {summary.Status}: {summary.Error}");
        Assert.Equal(3, code);   // local-cluster: a node failed (the killed one)
        Assert.Equal("exited 137", run.Exit("worker-1"));
        foreach (var n in Nodes.Where(n => n != "worker-1")) Assert.Equal("exited 0", run.Exit(n));
        AssertEpochsExact(summary);

        var recovery = Assert.Single(summary.Recoveries);
        Assert.Equal("worker lost", recovery.Kind);
        Assert.True(recovery.ResumedUtc is not null, "no training step completed after the worker was removed");
        var removed = (recovery.RemovedUtc - killed).TotalSeconds;
        var resumed = (recovery.ResumedUtc!.Value - killed).TotalSeconds;
        var flagged = recovery.UnreachableUtc is { } u ? $"{(u - killed).TotalSeconds:F1}s" : "not seen";
        output.WriteLine($"kill -> unreachable {flagged}, -> removed {removed:F1}s, -> first step after removal {resumed:F1}s");
        // The issue's target with the shipped failure-detector settings (cluster-config/reference.conf).
        Assert.True(resumed < 15, $"recovery took {resumed:F1}s (target < 15 s)");

        var auc = summary.Final!.Auc;
        AssertAuc(auc, baseline, baselineScenario);
        return new FaultRow(scenario, "passed", summary.Epochs.Sum(e => e.SamplesConsumed), summary.Epochs.Sum(e => e.SamplesExpected),
            summary.Epochs.Sum(e => e.SamplesReplayed), auc, baseline, resumed,
            $"{mode}; SIGKILL at step 30 of epoch 1; unreachable after {flagged}, removed after {removed:F1}s; {FaultSuiteCluster.CompareAuc(auc, baseline)} ({baselineScenario})");
    }

    [Fact]
    public Task Worker_stopped_for_seconds_does_not_stall_the_others_and_is_not_downed() => Scenario("slow-worker", async () =>
    {
        var baseline = await FaultSuiteCluster.BaselineAuc(output);
        var data = FaultSuiteCluster.Data(output);
        using var dir = new TempDir();
        await using var run = ClusterProcessRun.Start(data, Path.Combine(dir.Path, "run"), FaultSuiteCluster.TrainArgs);

        await run.WaitUntil(() => run.LastStep() is (1, >= 30), FaultSuiteCluster.RunTimeout, "epoch 1 past global step 30");
        var pid = run.Pid("worker-1");
        ClusterProcessRun.Signal(pid, ClusterProcessRun.SigStop);
        var clock = Stopwatch.StartNew();
        await run.WaitUntil(() => ClusterProcessRun.State(pid) == 'T', TimeSpan.FromSeconds(10), "worker-1 stopped");
        var before = run.LastStep().Step;
        // Stopped at least 4 s (below acceptable-heartbeat-pause, 5 s) and until worker-0 alone did 25 steps.
        const int othersSteps = 25;
        try
        {
            await run.WaitUntil(() => run.LastStep().Step >= before + othersSteps && clock.Elapsed >= TimeSpan.FromSeconds(4),
                TimeSpan.FromSeconds(60), $"{othersSteps} steps of worker-0 while worker-1 is stopped", checkAfter: TimeSpan.FromSeconds(4) - clock.Elapsed);
        }
        finally
        {
            ClusterProcessRun.Signal(pid, ClusterProcessRun.SigCont);
        }
        var stopped = clock.Elapsed.TotalSeconds;
        var during = run.LastStep().Step - before;
        output.WriteLine($"worker-1 (pid {pid}) stopped {stopped:F1}s; global steps during the stop: {during} (all worker-0's)");

        var code = await run.WaitForExit(FaultSuiteCluster.RunTimeout, "training after the worker was continued");
        output.WriteLine(run.Output);
        output.WriteLine(run.Log("coordinator"));
        var summary = run.Summary();
        Assert.True(summary.Status == "completed", $"run {summary.Status}: {summary.Error}");
        Assert.Equal(0, code);
        foreach (var n in Nodes) Assert.Equal("exited 0", run.Exit(n));
        Assert.Empty(summary.Failures);
        Assert.Empty(summary.Recoveries);
        AssertEpochsExact(summary);
        Assert.All(summary.Epochs, e => Assert.Equal(0, e.SamplesReplayed));
        // Nobody else's heartbeats were lost: only the stopped worker's node may have been flagged.
        var worker1 = NodeAddress(run.Log("worker-1"));
        Assert.All(summary.Reachability, r => Assert.Equal(worker1, r.Node));
        var flagged = summary.Reachability.Count(r => r.Event == "unreachable");

        var auc = summary.Final!.Auc;
        AssertAuc(auc, baseline, "fault-free");
        return new FaultRow("slow-worker", "passed", summary.Epochs.Sum(e => e.SamplesConsumed), summary.Epochs.Sum(e => e.SamplesExpected),
            0, auc, baseline, null,
            $"async; SIGSTOP {stopped:F1}s: {during} steps by the other worker meanwhile, unreachable events {flagged}, nobody downed; {FaultSuiteCluster.CompareAuc(auc, baseline)}");
    });

    [Fact]
    public Task Corrupt_row_group_mid_epoch_fails_the_run_naming_the_file_under_fail() => Scenario("bad-data-fail", async () =>
    {
        var baseline = await FaultSuiteCluster.BaselineAuc(output);
        using var dir = new TempDir();
        var (data, bad, _) = await CorruptCopy(dir.Path);
        await using var run = ClusterProcessRun.Start(data, Path.Combine(dir.Path, "run"), [.. FaultSuiteCluster.TrainArgs, "--on-bad-input", "fail"]);

        var code = await run.WaitForExit(FaultSuiteCluster.RunTimeout, "run over a corrupt row group (fail)");
        output.WriteLine(run.Output);
        var summary = run.Summary();
        output.WriteLine($"error: {summary.Error}");
        Assert.NotEqual(0, code);
        Assert.Equal("failed", summary.Status);
        // The data shard met it while serving epoch 1 (the coordinator's listing read the intact footer).
        Assert.StartsWith("data shard 0: " + bad + ": row group 1", summary.Error);
        Assert.Contains("cannot be decoded", summary.Error);
        Assert.Contains("[ERROR]", run.Log("data-0"));
        foreach (var n in Nodes.Where(n => n != "coordinator")) Assert.Equal("exited 0", run.Exit(n));
        return new FaultRow("bad-data-fail", "passed", summary.Epochs.Sum(e => e.SamplesConsumed), null, null, null, baseline, null,
            $"run failed as it must, naming the file: \"{Truncate(summary.Error!.Replace(data + "/", "", StringComparison.Ordinal), 100)}\"");
    });

    /// <summary>
    /// bsp, compared with the fault-free bsp run on the same data minus the skipped row group (<see cref="GoodRowsData"/>):
    /// the same batches in the same order, so the two runs agree to ~0.001 (async runs of it differed by up to 0.003).
    /// </summary>
    [Fact]
    public Task Corrupt_row_group_mid_epoch_is_skipped_and_counted_under_skip() => Scenario("bad-data-skip", async () =>
    {
        using var dir = new TempDir();
        var (data, bad, badRows) = await CorruptCopy(dir.Path);
        var baseline = await FaultSuiteCluster.BaselineAuc(output, "fault-free-bad-data-skip", GoodRowsData(), FaultSuiteCluster.BspArgs);
        await using var run = ClusterProcessRun.Start(data, Path.Combine(dir.Path, "run"), [.. FaultSuiteCluster.BspArgs, "--on-bad-input", "skip"]);

        var code = await run.WaitForExit(FaultSuiteCluster.RunTimeout, "run over a corrupt row group (skip)");
        output.WriteLine(run.Output);
        var summary = run.Summary();
        Assert.True(summary.Status == "completed", $"run {summary.Status}: {summary.Error}");
        Assert.Equal(0, code);
        Assert.Equal(new Dictionary<string, long> { ["unreadable_row_group"] = 1 }, summary.BadInput!.SkippedRowGroups);
        Assert.Equal(new Dictionary<string, long> { ["unreadable_row_group"] = badRows }, summary.BadInput.SkippedRows);
        Assert.Empty(summary.BadInput.SkippedFiles);
        foreach (var e in summary.Epochs)
        {
            Assert.Equal(badRows, e.SamplesSkipped);
            Assert.Equal(e.SamplesExpected, e.SamplesConsumed + e.SamplesSkipped);
            Assert.True(e.LedgerExact, $"epoch {e.Epoch}: ledger not exact");
        }
        Assert.Contains(bad, run.Log("data-0"));
        var auc = summary.Final!.Auc;
        AssertAuc(auc, baseline, "fault-free-bad-data-skip");
        return new FaultRow("bad-data-skip", "passed", summary.Epochs.Sum(e => e.SamplesConsumed), summary.Epochs.Sum(e => e.SamplesExpected),
            0, auc, baseline, null,
            $"bsp; {badRows} rows of a corrupt row group skipped in each epoch and counted (summary bad_input); {FaultSuiteCluster.CompareAuc(auc, baseline)} on the same data minus that row group (fault-free-bad-data-skip)");
    });

    /// <summary>
    /// The data bad-data-skip trains on, minus the row group it skips (generated once into the cache): the suite's
    /// data plus train/part-bad.parquet holding row groups 0, 2, 3, ... of the first train file and, in place of
    /// row group 1, a row group of no rows. Same file name and the same number of row groups, so the trainer's
    /// seeded row-group order is the same as the faulted run's: the runs differ only in the skipped rows (and in
    /// timing). With the row group left out the order changed and the (async) skip run landed 0.003-0.005 lower.
    /// </summary>
    private string GoodRowsData()
    {
        var source = FaultSuiteCluster.Data(output);
        var dir = source + "-minus-bad-row-group";
        if (File.Exists(Path.Combine(dir, "dataset.json"))) return dir;
        var tmp = dir + ".tmp";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        FaultSuiteCluster.CopyData(source, tmp);
        var first = Directory.GetFiles(Path.Combine(source, "train"), "*.parquet").Order(StringComparer.Ordinal).First();
        var schema = FeatureSchema.Default(maxLen: FaultSuiteCluster.DataSettings.HistoryMax);
        var reader = new BehaviourLogReader(schema);
        var groups = reader.Inspect(first)!.RowGroupRows;
        using (var writer = BehaviourLogWriter.Create(Path.Combine(tmp, "train", "part-bad.parquet"), schema, FaultSuiteCluster.DataSettings.RowGroupSize))
        {
            for (var g = 0; g < groups.Count; g++)
            {
                if (g == 1) writer.WriteEmptyRowGroupAsync().GetAwaiter().GetResult();
                else writer.Write(reader.ReadRowGroup(first, g, batchId: g));
            }
        }
        output.WriteLine($"baseline data for bad-data-skip: {tmp} with the {groups.Count - 1} readable row groups of {Path.GetFileName(first)} as train/part-bad.parquet");
        Directory.Move(tmp, dir);
        return dir;
    }

    /// <summary>The suite's data plus train/part-bad.parquet: a copy of a train file whose row group 1 is corrupt.</summary>
    private async Task<(string Data, string BadFile, long BadRows)> CorruptCopy(string dir)
    {
        var data = FaultSuiteCluster.CopyData(FaultSuiteCluster.Data(output), Path.Combine(dir, "data"));
        var bad = Path.Combine(data, "train", "part-bad.parquet");
        File.Copy(Directory.GetFiles(Path.Combine(data, "train"), "*.parquet").Order(StringComparer.Ordinal).First(), bad);
        var rows = await FaultSuiteCluster.CorruptRowGroup(bad, rowGroup: 1);
        output.WriteLine($"corrupted row group 1 ({rows} rows) of {bad}");
        return (data, bad, rows);
    }

    /// <summary>The issue's criterion: the final test AUC within 0.005 of the fault-free run with the same seed (both printed).</summary>
    private void AssertAuc(double auc, double baseline, string baselineScenario)
    {
        output.WriteLine($"test AUC {auc:F4}, fault-free ({baselineScenario}) {baseline:F4}, difference {auc - baseline:+0.0000;-0.0000}; train seed 3, data seed {FaultSuiteCluster.DataSeed}");
        Assert.True(Math.Abs(auc - baseline) <= FaultSuiteCluster.AucTolerance,
            $"test AUC {auc:F4} is not within {FaultSuiteCluster.AucTolerance} of the fault-free run's {baseline:F4} ({baselineScenario})");
    }

    private static void AssertEpochsExact(RunSummary summary)
    {
        Assert.Equal(3, summary.Epochs.Count);
        foreach (var e in summary.Epochs)
        {
            Assert.True(e.SamplesConsumed == e.SamplesExpected, $"epoch {e.Epoch}: consumed {e.SamplesConsumed} of {e.SamplesExpected}");
            Assert.True(e.LedgerExact, $"epoch {e.Epoch}: ledger not exact");
            Assert.NotNull(e.Test);
        }
    }

    /// <summary>The node's own address from its "node akka.tcp://... up with roles" line.</summary>
    private static string NodeAddress(string log) => NodeUpLine().Match(log) is { Success: true } m ? m.Groups[1].Value : throw new InvalidDataException("no 'node ... up' line");

    [GeneratedRegex(@"node (akka\.tcp://\S+) up with roles")]
    private static partial Regex NodeUpLine();

    private static string Truncate(string s, int n) => s.Length <= n ? s : s[..n] + "...";
}

using System.Diagnostics;
using System.Text;
using DinCluster.Cluster.Checkpoints;
using DinCluster.Cluster.Runs;
using DinCluster.Cluster.Tests.MultiProcess.FaultSuite;
using DinCluster.Cluster.Tests.Support;
using DinCluster.Core.Checkpoints;
using DinCluster.Data;
using Xunit.Abstractions;

namespace DinCluster.Cluster.Tests.MultiProcess;

/// <summary>
/// A real `dincluster train --local` process checkpointing every step is SIGKILLed while a checkpoint
/// is being written. The moment comes from the file system (inotify: a file appears in a ckpt-*.tmp folder);
/// the process is frozen there with SIGSTOP, the newest committed checkpoint is copied (bytes and
/// SHA-256), then it is SIGKILLed. No hook or variable changes the trainer's code path.
/// </summary>
[Trait("Category", "MultiProcess")]
[Trait("Category", "FaultSuite")]
[Collection(TorchCollection.Name)]
public sealed class CheckpointKillTests(ITestOutputHelper output)
{
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromMinutes(3);


    private static string Dll => Path.Combine(LocalClusterScript.RepoRoot, "src", "DinCluster.Cli", "bin", "Release", "net10.0", "dincluster.dll");

    [Fact]
    public Task Process_killed_while_writing_a_checkpoint_leaves_the_previous_one_bit_identical_and_resume_continues_from_it() =>
        FaultRow.Record("kill-during-checkpoint", KillDuringCheckpoint);

    /// <summary>The test; returns its fault-suite row (kill-during-checkpoint.json).</summary>
    private async Task<FaultRow> KillDuringCheckpoint()
    {
        Assert.True(File.Exists(Dll), $"{Dll} is missing: build src/DinCluster.Cli in Release first (scripts/bootstrap)");
        const ulong seed = 17;
        output.WriteLine($"data seed {seed}, train seed 3");
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "data");
        var run = Path.Combine(dir.Path, "run");
        // Many distinct ids so the snapshot files grow to a few MB: a write takes long enough to be caught.
        SyntheticGenerator.Generate(data, new SyntheticSettings { Users = 20_000, Items = 40_000, Categories = 200, Samples = 24_000, Seed = seed, RowGroupSize = 2048 });
        var root = Path.Combine(run, "checkpoints");
        Directory.CreateDirectory(root);
        string[] Train(bool resume, int every = 1) =>
            ["train", "--local", "--data", data, "--out", run, "--epochs", "1", "--embedding-dim", "32", "--batch-size", "128",
             "--seed", "3", "--threads", "1", "--checkpoint-every-steps", $"{every}", .. resume ? (string[])["--resume"] : []];

        string? copied = null;
        Dictionary<string, (long Bytes, string Sha)> before = [];
        string? tmp = null;
        string[] tmpHeld = [];
        var attempts = 0;
        for (var attempt = 1; attempt <= 5 && tmp is null; attempt++)
        {
            // Attempt 2+ resumes the run (a lost race leaves a valid run behind).
            // Armed on the first FILE created inside a ckpt-*.tmp folder: the write has begun putting bytes down.
            using var watcher = new FileSystemWatcher(root) { NotifyFilter = NotifyFilters.DirectoryName | NotifyFilters.FileName, IncludeSubdirectories = true };
            var frozen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            Process? process = null;
            watcher.Created += (_, e) =>
            {
                var folder = Path.GetFileName(Path.GetDirectoryName(e.FullPath)!);
                if (!folder.StartsWith("ckpt-", StringComparison.Ordinal) || !folder.EndsWith(".tmp", StringComparison.Ordinal) || frozen.Task.IsCompleted || process is null) return;
                if (!new CheckpointStore(root).Committed().Any()) return; // no previous checkpoint yet
                ClusterProcessRun.Signal(process.Id, ClusterProcessRun.SigStop);
                frozen.TrySetResult(folder);
            };
            watcher.EnableRaisingEvents = true;
            process = Start(Train(resume: attempt > 1), out var log);
            var exited = process.WaitForExitAsync();
            var first = await Task.WhenAny(frozen.Task, exited).WaitAsync(AttemptTimeout);
            if (first != frozen.Task)
            {
                output.WriteLine($"attempt {attempt}: the run ended (exit {process.ExitCode}) before a checkpoint write was caught\n{log}");
                continue;
            }
            // Frozen mid-write: copy the newest committed checkpoint, then SIGKILL.
            var pendingName = await frozen.Task;
            var latest = new CheckpointStore(root).Committed().First();
            copied = Path.GetFileName(latest);
            before = Directory.GetFiles(latest).ToDictionary(f => Path.GetFileName(f), f => (new FileInfo(f).Length, CheckpointManifest.Sha256Of(f)));
            var tmpFiles = Directory.Exists(Path.Combine(root, pendingName)) ? Directory.GetFiles(Path.Combine(root, pendingName)).Select(Path.GetFileName) : [];
            ClusterProcessRun.Signal(process.Id, ClusterProcessRun.SigKill);
            await exited.WaitAsync(TimeSpan.FromSeconds(30));
            output.WriteLine($"attempt {attempt}: SIGSTOP then SIGKILL (exit {process.ExitCode}) while {pendingName} held [{string.Join(", ", tmpFiles)}]; newest committed: {copied}");
            attempts = attempt;
            if (Directory.Exists(Path.Combine(root, pendingName))) (tmp, tmpHeld) = (pendingName, [.. tmpFiles.OfType<string>()]);
            else output.WriteLine($"attempt {attempt}: {pendingName} was committed before the freeze landed; trying again");
        }
        Assert.True(tmp is not null, "no attempt caught a checkpoint write in progress");

        // The interrupted write left only its .tmp folder; the previous checkpoint is untouched and valid.
        var store = new CheckpointStore(root);
        var valid = store.Latest((d, why) => output.WriteLine($"refused {Path.GetFileName(d)}: {why}"));
        Assert.NotNull(valid);
        Assert.Equal(copied, Path.GetFileName(valid.Value.Directory));
        var after = Directory.GetFiles(valid.Value.Directory).ToDictionary(f => Path.GetFileName(f), f => (new FileInfo(f).Length, CheckpointManifest.Sha256Of(f)));
        Assert.Equal(before.OrderBy(kv => kv.Key), after.OrderBy(kv => kv.Key));
        output.WriteLine($"{copied}: {after.Count} files, bit-identical to the copy taken before the kill ({after.Sum(f => f.Value.Item1):N0} bytes)");
        var model = ModelCheckpoint.Load(valid.Value.Directory);
        output.WriteLine($"{copied} restores: step {model.Manifest.Step}, {model.Tables.Stats().Sum(s => s.Rows):N0} embedding rows");

        // --resume continues from it and finishes the epoch; the stale .tmp is cleared by the next write.
        var resume = Start(Train(resume: true, every: 50), out var resumeLog);
        await resume.WaitForExitAsync().WaitAsync(AttemptTimeout);
        Assert.True(resume.ExitCode == 0, $"resume exited {resume.ExitCode}:\n{resumeLog}");
        var summary = RunSummary.Read(Path.Combine(run, "summary.json"));
        Assert.Equal("completed", summary.Status);
        Assert.Equal(Path.Combine("checkpoints", copied!), summary.ResumedFrom!.Checkpoint);
        Assert.Equal(model.Manifest.Step, summary.ResumedFrom.Step);
        Assert.True(summary.Epochs.Single().LedgerExact, "epoch 1 ledger not exact after the resume");
        Assert.False(Directory.Exists(Path.Combine(root, tmp!)), $"{tmp} is still there after the resumed run wrote checkpoints");
        output.WriteLine($"resumed from {summary.ResumedFrom.Checkpoint} (step {summary.ResumedFrom.Step}), completed at step {summary.Steps}, test AUC {summary.Final?.Auc:F4}");
        var epoch = summary.Epochs.Single();
        return new FaultRow("kill-during-checkpoint", "passed", epoch.SamplesConsumed, epoch.SamplesExpected, epoch.SamplesReplayed, summary.Final?.Auc, null, null,
            $"local trainer SIGKILLed (attempt {attempts}) while {tmp} held {tmpHeld.Length} file(s); the previous checkpoint {copied} " +
            $"(step {model.Manifest.Step}, {after.Count} files, {after.Sum(f => f.Value.Item1):N0} bytes) is bit-identical (SHA-256 per file) to a copy " +
            $"taken before the kill and restores; --resume continued from it to the end of the epoch (ledger exact, {tmp} cleared)");
    }

    private static Process Start(IEnumerable<string> args, out StringBuilder log)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        var text = log = new StringBuilder();
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (text) text.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (text) text.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}

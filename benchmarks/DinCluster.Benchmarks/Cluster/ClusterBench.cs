using System.Diagnostics;
using System.Globalization;
using DinCluster.Cluster.Configuration;
using DinCluster.Cluster.Jobs;
using DinCluster.Cluster.Runs;
using DinCluster.Data;

namespace DinCluster.Benchmarks.Cluster;

/// <summary>How to start the `dincluster` CLI as a child process: the host and the arguments before the command.</summary>
/// <param name="Dll">The CLI's dll, for scripts/local-cluster (DINCLUSTER_DLL).</param>
public sealed record CliLauncher(string FileName, IReadOnlyList<string> Prefix, string Dll);

/// <param name="Samples">Generated samples, train and test (10% test).</param>
/// <param name="Threads">libtorch intra-op threads of the local trainer and of the single worker in every one-worker mode,
/// split among its lanes; 0 = each mode's default (local: the cores; a cluster worker: <see cref="WorkerThreads"/>).</param>
/// <param name="Lanes">Compute lanes of every mode's job (train --lanes).</param>
/// <param name="Repeat">Runs per mode; the best epoch rate counts (the machine may be shared).</param>
/// <param name="Script">scripts/local-cluster of the checkout.</param>
/// <param name="KeepDir">Keep data and runs here instead of a deleted temporary folder.</param>
public sealed record ClusterBenchOptions(
    int Samples = 80_000,
    ulong Seed = 42,
    int BatchSize = 256,
    int Threads = 0,
    int Repeat = 1,
    int Lanes = TrainJob.DefaultLanes,
    string? Script = null,
    string? KeepDir = null);

/// <summary>One mode's figure: the best first-epoch training rate over the repeats.</summary>
/// <param name="ColdSamplesPerSecond">Training samples per second of epoch 1 (train seconds only: test evaluation
/// excluded): includes the process's warm-up (JIT of every code path, first touch of the tables, connections).</param>
/// <param name="SamplesPerSecond">The same of epoch 2: the rate the job trains at once warm; the figure the ratios quote.</param>
/// <param name="Runs">Every repeat's (epoch 1, epoch 2) rates.</param>
public sealed record ClusterBenchMode(string Name, int Workers, string Threads, double ColdSamplesPerSecond, double SamplesPerSecond,
    IReadOnlyList<(double Cold, double Warm)> Runs);

public sealed record ClusterBenchResult(int TrainSamples, int Threads, IReadOnlyList<ClusterBenchMode> Modes)
{
    public double Local => Modes[0].SamplesPerSecond;
    public double ColdLocal => Modes[0].ColdSamplesPerSecond;
}

/// <summary>
/// Training throughput of one data set and one preset (default DIN, default dims) in every way this
/// code trains, each mode a fresh process of the same CLI so none inherits another's warm JIT or
/// libtorch threads: the local reference trainer; the simulated cluster with 1 worker, 1 PS shard
/// and 1 data shard; the same shape as separate processes on loopback (scripts/local-cluster:
/// coordinator, ps, data and worker processes); and the simulated cluster with 2 workers. The
/// figure is epoch 1's training samples/s from summary.json (train seconds only, test evaluation
/// excluded) of epochs 1 (cold) and 2 (warm), read the same way for every mode.
/// </summary>
public static class ClusterBench
{
    private static readonly TimeSpan ModeTimeout = TimeSpan.FromMinutes(30);

    public static ClusterBenchResult Run(ClusterBenchOptions options, CliLauncher cli, TextWriter log)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Samples, 1_000);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Repeat, 1);
        var script = options.Script ?? FindScript(cli.Dll)
            ?? throw new FileNotFoundException($"scripts/local-cluster not found above {cli.Dll}; pass its path");
        var threads = options.Threads > 0 ? options.Threads : Environment.ProcessorCount;
        string[] ThreadFlag() => options.Threads > 0 ? ["--threads", Str(options.Threads)] : [];
        // What each worker computes with: its lanes (the same for every mode) x libtorch threads per lane.
        var lanes = options.Lanes;
        string Lanes(int perLane) => $"{lanes} x {perLane}";
        var root = options.KeepDir ?? Directory.CreateTempSubdirectory("dincluster-clusterbench-").FullName;
        Directory.CreateDirectory(root);
        try
        {
            var data = Path.Combine(root, "data");
            var dataset = SyntheticGenerator.Generate(data, new SyntheticSettings { Samples = options.Samples, Seed = options.Seed });
            log.WriteLine(FormattableString.Invariant(
                $"cluster bench: {dataset.Train.Samples:N0} training samples (seed {options.Seed}), preset din, default dims, batch {options.BatchSize}, 2 epochs per run, {Environment.ProcessorCount} cores, best of {options.Repeat}"));

            string[] Common(string run) =>
                ["--data", data, "--out", run, "--epochs", "2", "--batch-size", Str(options.BatchSize), "--seed", "1", "--lanes", Str(lanes)];
            var modes = new (string Name, int Workers, string Threads, Func<string, (string File, List<string> Args, bool Script)> Command)[]
            {
                ("local trainer", 1, Lanes(Math.Max(1, threads / lanes)), run => (cli.FileName, [.. cli.Prefix, "train", "--local", .. Common(run), "--threads", Str(threads)], false)),
                ("simulated, 1 worker", 1, Lanes(new WorkerThreads(options.Threads, 1).PerLane(lanes)), run => (cli.FileName, [.. cli.Prefix, "train", .. Common(run),
                    "--workers", "1", "--ps", "1", "--data-shards", "1", .. ThreadFlag()], false)),
                ("multi-process, 1 worker", 1, Lanes(new WorkerThreads(options.Threads, 1).PerLane(lanes)), run => ("bash", [script, "start", .. Common(run),
                    "--workers", "1", "--ps", "1", "--data-shards", "1", .. ThreadFlag()], true)),
                // Default sizing: libtorch's pool is per process, shared by both workers.
                ("simulated, 2 workers", 2, $"{Lanes(new WorkerThreads(0, 2).PerLane(lanes))} each", run => (cli.FileName, [.. cli.Prefix, "train", .. Common(run),
                    "--workers", "2", "--ps", "1", "--data-shards", "1"], false)),
            };

            var rates = modes.Select(_ => new List<(double Cold, double Warm)>()).ToArray();
            for (var r = 0; r < options.Repeat; r++)
                for (var m = 0; m < modes.Length; m++)
                {
                    var run = Path.Combine(root, $"run-{m}-{r}");
                    var (file, args, viaScript) = modes[m].Command(run);
                    var rate = RunOne(modes[m].Name, file, args, viaScript ? cli.Dll : null, run);
                    rates[m].Add(rate);
                    log.WriteLine(FormattableString.Invariant($"  {modes[m].Name,-26} run {r + 1}: epoch 1 {rate.Cold,9:N0} samples/s, epoch 2 {rate.Warm,9:N0} samples/s"));
                }
            var result = modes.Select((m, i) => new ClusterBenchMode(m.Name, m.Workers, m.Threads, rates[i].Max(x => x.Cold), rates[i].Max(x => x.Warm), rates[i])).ToList();
            return new ClusterBenchResult((int)dataset.Train.Samples, threads, result);
        }
        finally
        {
            if (options.KeepDir is null)
                try
                {
                    Directory.Delete(root, recursive: true);
                }
                catch (IOException)
                {
                    // A log still held by an exiting node; the OS temp cleaner takes it.
                }
        }
    }

    /// <summary>Runs one training to its end; returns epochs 1 and 2's training samples/s from RUN/summary.json.</summary>
    private static (double Cold, double Warm) RunOne(string mode, string file, List<string> args, string? scriptDll, string run)
    {
        Directory.CreateDirectory(run);
        var logPath = Path.Combine(run + ".log");
        var info = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        if (scriptDll is not null) info.Environment["DINCLUSTER_DLL"] = scriptDll;
        using (var output = new StreamWriter(logPath))
        using (var process = new Process { StartInfo = info })
        {
            void Write(string? line)
            {
                if (line is null) return;
                lock (output) output.WriteLine(line);
            }
            process.OutputDataReceived += (_, e) => Write(e.Data);
            process.ErrorDataReceived += (_, e) => Write(e.Data);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            if (!process.WaitForExit(ModeTimeout))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"cluster bench: '{mode}' did not finish within {ModeTimeout.TotalMinutes:0} min; see {logPath}");
            }
            process.WaitForExit();
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"cluster bench: '{mode}' exited {process.ExitCode}; see {logPath}");
        }
        var summary = RunSummary.Read(Path.Combine(run, "summary.json"));
        if (summary.Status != "completed" || summary.Epochs.Count != 2)
            throw new InvalidOperationException($"cluster bench: '{mode}' ended {summary.Status} after {summary.Epochs.Count} epoch(s): {summary.Error}; see {logPath}");
        foreach (var epoch in summary.Epochs)
            if (epoch.SamplesConsumed != epoch.SamplesExpected)
                throw new InvalidOperationException($"cluster bench: '{mode}' consumed {epoch.SamplesConsumed} of {epoch.SamplesExpected} samples in epoch {epoch.Epoch}");
        return (summary.Epochs[0].SamplesPerSecond, summary.Epochs[1].SamplesPerSecond);
    }

    /// <summary>scripts/local-cluster in the first folder above the CLI's dll that has one.</summary>
    private static string? FindScript(string dll)
    {
        for (var dir = new FileInfo(dll).Directory; dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "scripts", "local-cluster");
            if (File.Exists(path)) return path;
        }
        return null;
    }

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);
}

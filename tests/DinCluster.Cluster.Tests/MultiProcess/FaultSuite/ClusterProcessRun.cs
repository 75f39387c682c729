using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using DinCluster.Cluster.Runs;

namespace DinCluster.Cluster.Tests.MultiProcess.FaultSuite;

/// <summary>
/// `scripts/local-cluster start` running in the background, so a test can act on its processes
/// (SIGKILL, SIGSTOP/SIGCONT by pid from RUN/nodes/NAME.pid) while the job trains, and watch the
/// run's files (metrics.csv, summary.json, logs). Every wait has a deadline that names the phase.
/// Dispose stops whatever is left of the run.
/// </summary>
public sealed class ClusterProcessRun : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private Task _exited = Task.CompletedTask;
    /// <summary>Completed (and replaced) when a line of output arrives or a file of the run changes.</summary>
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ClusterProcessRun(string run, Process process)
    {
        Run = run;
        _process = process;
    }

    public string Run { get; }
    public string Nodes => Path.Combine(Run, "nodes");
    public bool HasExited => _exited.IsCompleted;

    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    public static ClusterProcessRun Start(string data, string run, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = LocalClusterScript.RepoRoot,
        };
        info.ArgumentList.Add(LocalClusterScript.Path);
        foreach (var a in new[] { "start", "--data", data, "--out", run }.Concat(args)) info.ArgumentList.Add(a);
        var process = new Process { StartInfo = info };
        // local-cluster creates it too (mkdir -p); made here so WaitUntil can watch it from the start.
        Directory.CreateDirectory(run);
        var r = new ClusterProcessRun(run, process);
        process.OutputDataReceived += (_, e) => r.Append(e.Data);
        process.ErrorDataReceived += (_, e) => r.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        r._exited = process.WaitForExitAsync();
        return r;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
        Changed();
    }

    private void Changed() =>
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>Waits for local-cluster to end; its exit code.</summary>
    public async Task<int> WaitForExit(TimeSpan timeout, string phase)
    {
        if (await Task.WhenAny(_exited, Task.Delay(timeout)) != _exited)
            throw new TimeoutException($"phase '{phase}' did not finish within {timeout.TotalSeconds:0}s; local-cluster output so far:\n{Output}");
        _process.WaitForExit();   // drains the redirected streams
        return _process.ExitCode;
    }

    /// <summary>
    /// Waits until <paramref name="condition"/> holds, checking it again whenever local-cluster prints a line or a
    /// file of the run changes (metrics.csv gets a row per step with --log-every 1, node logs, pid files), and once
    /// more at <paramref name="checkAfter"/> for a condition on elapsed time; throws naming the phase at the
    /// deadline or when the run ended first.
    /// </summary>
    public async Task WaitUntil(Func<bool> condition, TimeSpan timeout, string phase, TimeSpan? checkAfter = null)
    {
        using var watcher = new FileSystemWatcher(Run) { IncludeSubdirectories = true, NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size };
        watcher.Changed += (_, _) => Changed();
        watcher.Created += (_, _) => Changed();
        watcher.Renamed += (_, _) => Changed();
        watcher.EnableRaisingEvents = true;
        var deadline = Task.Delay(timeout);
        var timer = checkAfter is { } after && after > TimeSpan.Zero ? Task.Delay(after) : Task.Delay(Timeout.Infinite);
        while (true)
        {
            // Taken before the check, so a change in between completes it.
            var next = Volatile.Read(ref _changed).Task;
            if (condition()) return;
            if (_exited.IsCompleted)
                throw new InvalidOperationException($"phase '{phase}': the run ended first; local-cluster output:\n{Output}");
            var woke = await Task.WhenAny(next, _exited, deadline, timer);
            if (woke == timer) timer = Task.Delay(Timeout.Infinite);
            if (woke == deadline && !condition())
                throw new TimeoutException($"phase '{phase}' not reached within {timeout.TotalSeconds:0}s; local-cluster output so far:\n{Output}");
        }
    }

    /// <summary>The pid of node NAME (coordinator, worker-0, ps-1, ...) once local-cluster wrote it.</summary>
    public int Pid(string name)
    {
        var text = File.ReadAllText(Path.Combine(Nodes, name + ".pid")).Trim();
        return int.Parse(text, CultureInfo.InvariantCulture);
    }

    public bool HasPid(string name) => File.Exists(Path.Combine(Nodes, name + ".pid"));

    /// <summary>Global steps (epoch, step) in metrics.csv so far (run with --log-every 1 for every step).</summary>
    public (int Epoch, long Step) LastStep()
    {
        var path = Path.Combine(Run, "metrics.csv");
        if (!File.Exists(path)) return (0, 0);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        (int, long) last = (0, 0);
        while (reader.ReadLine() is { } line)
        {
            var cells = line.Split(',');
            if (cells.Length < 2 || !int.TryParse(cells[0], CultureInfo.InvariantCulture, out var e) || !long.TryParse(cells[1], CultureInfo.InvariantCulture, out var s)) continue;
            last = (e, s);
        }
        return last;
    }

    public RunSummary Summary() => RunSummary.Read(Path.Combine(Run, "summary.json"));

    public string Log(string name) => File.ReadAllText(Path.Combine(Nodes, name + ".log"));

    public string Exit(string name) => File.ReadAllText(Path.Combine(Nodes, name + ".exit")).Trim();

    /// <summary>Process state letter from /proc (R, S, T = stopped, Z ...); null when gone.</summary>
    public static char? State(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[stat.LastIndexOf(')') + 2];
        }
        catch (IOException)
        {
            return null;
        }
    }

    public const int SigKill = 9, SigCont = 18, SigStop = 19;

    /// <summary>kill(2): sends <paramref name="signal"/> to <paramref name="pid"/>; throws when it fails.</summary>
    public static void Signal(int pid, int signal)
    {
        if (kill(pid, signal) != 0) throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [DllImport("libc", SetLastError = true)]
#pragma warning disable SYSLIB1054, CA5392 // a single libc call in test code; LibraryImport's source generator buys nothing here
    private static extern int kill(int pid, int sig);
#pragma warning restore SYSLIB1054, CA5392

    public async ValueTask DisposeAsync()
    {
        if (!_exited.IsCompleted)
        {
            await LocalClusterScript.Run(["stop", Run], $"stopping {Run}", TimeSpan.FromSeconds(60));
            if (await Task.WhenAny(_exited, Task.Delay(TimeSpan.FromSeconds(30))) != _exited) _process.Kill(entireProcessTree: true);
        }
        _process.Dispose();
    }
}

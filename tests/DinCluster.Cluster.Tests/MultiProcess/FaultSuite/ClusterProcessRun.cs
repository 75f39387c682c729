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
    }

    /// <summary>Waits for local-cluster to end; its exit code.</summary>
    public async Task<int> WaitForExit(TimeSpan timeout, string phase)
    {
        if (await Task.WhenAny(_exited, Task.Delay(timeout)) != _exited)
            throw new TimeoutException($"phase '{phase}' did not finish within {timeout.TotalSeconds:0}s; local-cluster output so far:\n{Output}");
        _process.WaitForExit();   // drains the redirected streams
        return _process.ExitCode;
    }

    /// <summary>
    /// AwaitCondition for what raises no event here (a process's state in /proc, rows of another process's
    /// metrics.csv, real time elapsed since a SIGSTOP): checks <paramref name="condition"/> every 50 ms, as
    /// Akka.TestKit's AwaitCondition does with its interval, until it holds; throws naming the phase at the
    /// deadline or when the run ended first. Never used to wait for a fixed time.
    /// </summary>
    public async Task WaitUntil(Func<bool> condition, TimeSpan timeout, string phase)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (_exited.IsCompleted && !condition())
                throw new InvalidOperationException($"phase '{phase}': the run ended first; local-cluster output:\n{Output}");
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"phase '{phase}' not reached within {timeout.TotalSeconds:0}s; local-cluster output so far:\n{Output}");
            await Task.WhenAny(_exited, Task.Delay(50));
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

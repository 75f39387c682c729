using System.Diagnostics;
using System.Text;

namespace DinCluster.Cluster.Tests.MultiProcess;

/// <summary>
/// scripts/netns-cluster of this checkout: `start` as a running child process whose output is
/// captured (<see cref="Start"/>), the other commands run to their end (<see cref="Run"/>).
/// </summary>
public sealed class NetnsClusterScript : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly string _run;

    private NetnsClusterScript(Process process, string run)
    {
        _process = process;
        _run = run;
    }

    public static string Path => System.IO.Path.Combine(LocalClusterScript.RepoRoot, "scripts", "netns-cluster");

    /// <summary>Why this host cannot run namespace clusters (not root, no `ip`), or null when it can.</summary>
    public static string? Unsupported { get; } = FindUnsupported();

    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Starts `netns-cluster start ARGS` (--out <paramref name="run"/> is added).</summary>
    public static NetnsClusterScript Start(string run, IReadOnlyList<string> args)
    {
        var process = new Process { StartInfo = Info(["start", "--out", run, .. args]) };
        var script = new NetnsClusterScript(process, run);
        process.OutputDataReceived += (_, e) => script.Append(e.Data);
        process.ErrorDataReceived += (_, e) => script.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return script;
    }

    /// <summary>Waits for `start` to end; on a timeout stops the run (processes and namespaces) and throws naming <paramref name="phase"/>.</summary>
    public async Task<int> WaitForExit(string phase, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            await Stop();
            throw new TimeoutException($"phase '{phase}' did not finish within {timeout.TotalSeconds:0}s; netns-cluster output so far:\n{Output}");
        }
        _process.WaitForExit();   // drains the redirected streams
        return _process.ExitCode;
    }

    /// <summary>Runs `netns-cluster ARGS` (cut, heal, stop, ...) to its end.</summary>
    public static async Task<(int ExitCode, string Output)> Run(IReadOnlyList<string> args, TimeSpan timeout)
    {
        using var process = new Process { StartInfo = Info(args) };
        process.Start();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"netns-cluster {string.Join(' ', args)} did not finish within {timeout.TotalSeconds:0}s");
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>Stops the run if it still runs: the script's `stop` kills its processes and deletes its namespaces.</summary>
    public async Task Stop()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        await Run(["stop", _run], TimeSpan.FromSeconds(60));
    }

    public async ValueTask DisposeAsync()
    {
        await Stop();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    private static ProcessStartInfo Info(IReadOnlyList<string> args)
    {
        var info = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = LocalClusterScript.RepoRoot,
        };
        info.ArgumentList.Add(Path);
        foreach (var a in args) info.ArgumentList.Add(a);
        return info;
    }

    private static string? FindUnsupported()
    {
        if (!OperatingSystem.IsLinux()) return "network namespaces need Linux";
        if (!Environment.IsPrivilegedProcess) return "needs root: scripts/netns-cluster creates network namespaces (ip netns); run the tests as root";
        var paths = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/sbin").Append("/sbin");
        return paths.Any(p => File.Exists(System.IO.Path.Combine(p, "ip"))) ? null : "needs the `ip` command (iproute2)";
    }
}

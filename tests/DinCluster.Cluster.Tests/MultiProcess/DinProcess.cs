using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DinCluster.Cluster.Tests.MultiProcess;

/// <summary>
/// One `dincluster` process (`dotnet dincluster.dll ARGS`, the Release build of this checkout, made
/// current by scripts/dincluster's build check) with its output captured and extra environment variables.
/// </summary>
public sealed class DinProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Task _exited;
    /// <summary>Completed (and replaced) whenever a line of output arrives.</summary>
    private TaskCompletionSource _lineArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private DinProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _exited = process.WaitForExitAsync();
    }

    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    public bool HasExited => _exited.IsCompleted;

    private static readonly Lazy<string> Dll = new(() =>
    {
        // The launcher rebuilds when sources changed, then prints its usage.
        var check = Process.Start(new ProcessStartInfo("bash", [Path.Combine(LocalClusterScript.RepoRoot, "scripts", "dincluster"), "--help"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        check.StandardOutput.ReadToEnd();
        check.StandardError.ReadToEnd();
        check.WaitForExit();
        return Path.Combine(LocalClusterScript.RepoRoot, "src", "DinCluster.Cli", "bin", "Release", "net10.0", "dincluster.dll");
    });

    public static DinProcess Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = LocalClusterScript.RepoRoot,
        };
        info.ArgumentList.Add(Dll.Value);
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) info.Environment[k] = v;
        return new DinProcess(new Process { StartInfo = info });
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
        Interlocked.Exchange(ref _lineArrived, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    public async Task<int> WaitForExit(TimeSpan timeout, string phase)
    {
        if (await Task.WhenAny(_exited, Task.Delay(timeout)) != _exited)
            throw new TimeoutException($"phase '{phase}' did not end within {timeout.TotalSeconds:0}s; output so far:\n{Output}");
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Waits until <paramref name="text"/> appears in the output (checked again on every new line); throws naming the phase at the deadline or when the process ended first.</summary>
    public async Task WaitForOutput(string text, TimeSpan timeout, string phase)
    {
        var deadline = Task.Delay(timeout);
        while (true)
        {
            // Taken before the check, so a line that arrives in between completes it.
            var next = Volatile.Read(ref _lineArrived).Task;
            if (Output.Contains(text, StringComparison.Ordinal)) return;
            if (_exited.IsCompleted)
            {
                _process.WaitForExit();   // drains the redirected streams: the text may be in the last lines
                if (Output.Contains(text, StringComparison.Ordinal)) return;
                throw new InvalidOperationException($"phase '{phase}': the process exited ({_process.ExitCode}) first; output:\n{Output}");
            }
            if (await Task.WhenAny(next, _exited, deadline) == deadline)
                throw new TimeoutException($"phase '{phase}' not reached within {timeout.TotalSeconds:0}s; output so far:\n{Output}");
        }
    }

    /// <summary>A loopback port nothing listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        if (!_exited.IsCompleted) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}

using System.Diagnostics;
using System.Text;

namespace DinCluster.Cluster.Tests.MultiProcess;

/// <summary>
/// Runs scripts/local-cluster of this checkout as a child process, with its output captured.
/// Every wait has a timeout that names the phase; on a timeout the run's processes are stopped.
/// </summary>
public static class LocalClusterScript
{
    /// <summary>The checkout: the first folder above the test binaries that holds scripts/local-cluster.</summary>
    public static string RepoRoot { get; } = FindRoot();

    public static string Path => System.IO.Path.Combine(RepoRoot, "scripts", "local-cluster");

    /// <summary>Runs `local-cluster ARGS` to its end; throws TimeoutException naming <paramref name="phase"/>.</summary>
    public static async Task<(int ExitCode, string Output)> Run(IReadOnlyList<string> args, string phase, TimeSpan timeout, string? stopRunOnTimeout = null)
    {
        var info = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoRoot,
        };
        info.ArgumentList.Add(Path);
        foreach (var a in args) info.ArgumentList.Add(a);

        var output = new StringBuilder();
        void Append(string? line)
        {
            if (line is null) return;
            lock (output) output.AppendLine(line);
        }
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            if (stopRunOnTimeout is not null) await Run(["stop", stopRunOnTimeout], $"stopping {stopRunOnTimeout} after a timeout", TimeSpan.FromSeconds(60));
            string text;
            lock (output) text = output.ToString();
            throw new TimeoutException($"phase '{phase}' did not finish within {timeout.TotalSeconds:0}s; local-cluster output so far:\n{text}");
        }
        process.WaitForExit();   // drains the redirected streams
        lock (output) return (process.ExitCode, output.ToString());
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "scripts", "local-cluster"))) return dir.FullName;
        throw new FileNotFoundException($"no scripts/local-cluster above {AppContext.BaseDirectory}");
    }
}

using System.Diagnostics;

namespace DinCluster.Cli.Tests.Support;

/// <summary>Finds a Python that imports torch: DINCLUSTER_PYTHON, else python3 on PATH, else /usr/bin/python3 (Debian's python3-torch).</summary>
public static class PythonWithTorch
{
    /// <summary>The interpreter, or null with the reason (every candidate tried and why it failed).</summary>
    public static string? Find(out string reason)
    {
        var candidates = new[] { Environment.GetEnvironmentVariable("DINCLUSTER_PYTHON"), "python3", "/usr/bin/python3" }
            .Where(c => !string.IsNullOrEmpty(c)).Distinct().ToList();
        var tried = new List<string>();
        foreach (var candidate in candidates)
        {
            try
            {
                var (code, _, stderr) = Run(candidate!, ["-c", "import torch"]);
                if (code == 0)
                {
                    reason = "";
                    return candidate;
                }
                tried.Add($"{candidate}: {stderr.Trim().Split('\n').LastOrDefault()}");
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                tried.Add($"{candidate}: {e.Message}");
            }
        }
        reason = $"no python with torch importable ({string.Join("; ", tried)}); install python3-torch or set DINCLUSTER_PYTHON";
        return null;
    }

    public static (int Code, string Stdout, string Stderr) Run(string file, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish within 2 minutes");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}

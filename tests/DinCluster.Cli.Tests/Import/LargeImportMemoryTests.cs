using System.Diagnostics;
using System.Globalization;
using System.Text;
using DinCluster.Cli.Tests.Support;
using DinCluster.Data.Importers;
using Xunit.Abstractions;

namespace DinCluster.Cli.Tests.Import;

/// <summary>
/// An event CSV of ~250 MB (8 million events) imported by a child `dincluster import csv` whose GC heap is
/// capped at 96 MiB (DOTNET_GCHeapHardLimit): holding the events alone would take 8M x 48 bytes = 384 MB,
/// so it completes only if the importer streams through its per-user partitions. The control run, allowed
/// a 1 GiB budget under the same cap, runs out of memory.
/// </summary>
public sealed class LargeImportMemoryTests(ITestOutputHelper output) : IDisposable
{
    private const int Events = 8_000_000;
    private const int Users = 400_000;
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    [Trait("Category", "MultiProcess")]
    public void Import_csv_completes_under_a_96_MiB_heap_limit_when_the_input_is_larger_than_the_limit()
    {
        const int seed = 81;
        output.WriteLine($"events seed {seed}");
        var input = _dir.File("events.csv");
        WriteEvents(input, seed);
        var bytes = new FileInfo(input).Length;
        output.WriteLine($"{input}: {bytes / 1e6:F0} MB, {Events:N0} events");
        Assert.True(bytes > 200_000_000, $"{bytes} bytes");

        var outDir = _dir.File("out");
        var (exit, stdout, stderr) = RunCli(["import", "csv", "--input", input, "--out", outDir], heapLimit: "0x6000000");
        output.WriteLine(stdout);
        output.WriteLine(stderr);

        Assert.Equal(0, exit);
        var report = ImportReport.Load(outDir);
        Assert.Equal(Events, report.RowsRead);
        Assert.Equal(Events, report.Train.Samples + report.Test.Samples);
        Assert.True(report.Partitions > 1, $"{report.Partitions} partitions");
        Assert.True(report.MemoryBudgetBytes <= 0x6000000 / 4, $"budget {report.MemoryBudgetBytes}");
        output.WriteLine($"import rate: {report.RowsPerSecond:N0} rows/s over {report.Seconds:F1} s, {report.Partitions} partitions");

        // the control: told it may hold 1 GiB per partition set, the same import cannot stay under the cap
        var (controlExit, _, controlError) = RunCli(["import", "csv", "--input", input, "--out", _dir.File("control"), "--memory-mb", "1024"], heapLimit: "0x6000000");
        output.WriteLine($"control (--memory-mb 1024): exit {controlExit}, {controlError.Trim()}");
        Assert.NotEqual(0, controlExit);
    }

    /// <summary>Users in random order, time ascending through the file, half the events positive.</summary>
    private static void WriteEvents(string path, int seed)
    {
        var rng = new Random(seed);
        using var w = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
        w.Write("user_id,item_id,category_id,timestamp,label\n");
        var line = new StringBuilder(64);
        for (var k = 0; k < Events; k++)
        {
            var item = rng.Next(1_000_000);
            line.Clear().Append(CultureInfo.InvariantCulture, $"{rng.Next(Users) + 1_000_000L},{item + 5_000_000L},{item % 997},{1_600_000_000L + k},{rng.Next(2)}\n");
            w.Write(line);
        }
    }

    /// <summary>Runs the CLI that this test project was built with, in a child process.</summary>
    private static (int Exit, string Stdout, string Stderr) RunCli(string[] args, string heapLimit)
    {
        var dll = typeof(Program).Assembly.Location;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["DOTNET_GCHeapHardLimit"] = heapLimit;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(4)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"import of the large CSV did not finish in 4 minutes (pid {process.Id})");
        }
        return (process.ExitCode, stdout, stderr.GetAwaiter().GetResult());
    }
}

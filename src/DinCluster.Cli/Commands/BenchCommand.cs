using DinCluster.Benchmarks.Data;

namespace DinCluster.Cli.Commands;

/// <summary>`dincluster bench SUITE`: each suite measures its figures and their ratios in one run.</summary>
public static class BenchCommand
{
    public const string Help = """
        dincluster bench data [--samples N]   Parquet -> Batch decode rate on one thread (histories ~20 ids)
        """;

    public static int Run(CliArgs args)
    {
        var suite = args.Positional.FirstOrDefault() ?? throw new CliException("which benchmark? data");
        switch (suite)
        {
            case "data":
            {
                var samples = args.Int("samples", 400_000);
                args.RejectUnknown();
                var r = DataBench.Run(samples, Console.Out);
                Console.WriteLine($"bench data: {r.Samples:N0} samples, mean history {r.MeanHistoryLength:F1} ids");
                foreach (var c in r.Codecs)
                    Console.WriteLine($"  {c.Compression,-12} decode {c.DecodeSamplesPerSecond,12:N0} samples/s on one thread, write {c.WriteSamplesPerSecond,10:N0} samples/s, allocated {c.AllocatedBytesPerSample:F0} B/sample (of which batch arrays {c.BatchBytesPerSample:F0})");
                return 0;
            }
            default:
                throw new CliException($"unknown benchmark '{suite}'; see `dincluster bench --help`");
        }
    }
}

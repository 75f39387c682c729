using System.Reflection;
using DinCluster.Benchmarks.Cluster;
using DinCluster.Benchmarks.Data;
using DinCluster.Benchmarks.Model;
using DinCluster.Benchmarks.ParameterServer;
using DinCluster.Benchmarks.Serving;
using DinCluster.Cluster.Checkpoints;
using DinCluster.Cluster.Serving;
using DinCluster.Model.Training;
using DinCluster.Model.Networks;

namespace DinCluster.Cli.Commands;

/// <summary>`dincluster bench SUITE`: each suite measures its figures and their ratios in one run.</summary>
public static class BenchCommand
{
    public const string Help = """
        dincluster bench model [--batch B --preset din|base --steps N --threads T]
                                              fused train-step samples/s and its useful FLOP rate as a
                                              ratio of libtorch's sgemm rate on this machine
        dincluster bench ps [--rows N --dim D]  PS shard: Adagrad row updates/s (Zipf ids), resident
                                              bytes vs rows x dim x 4 x (1 + slots), pull ns/id
        dincluster bench data [--samples N]   Parquet -> Batch decode rate on one thread (histories ~20 ids)
        dincluster bench cluster [--samples N --threads T --lanes K --repeat R --batch-size B --seed S --keep DIR]
                                              training samples/s (epochs 1 and 2 of a 2-epoch run,
                                              evaluation excluded; ratios of epoch 2) of the
                                              local trainer, the simulated cluster with 1 worker, the same
                                              shape as processes on loopback (scripts/local-cluster), and
                                              the simulated cluster with 2 workers; ratios to the local
                                              trainer. Default 80,000 samples, best of R = 1; torch
                                              threads: each mode's default (train --help), or T per
                                              worker in every one-worker mode; --lanes K: every
                                              mode's job computes in K lanes (default 1);
                                              --script PATH: scripts/local-cluster (default: found above
                                              the CLI's dll).
        dincluster bench serve [--model CKPT --requests N --batches 1,64 --scorers S --threads T --clients C --seed S]
                                              `serve` over real HTTP on loopback: p50/p90/p99 latency of
                                              one client at each batch size, and requests/s of C clients
                                              (default C = S = cores, T = cores / S); a freshly initialised
                                              default DIN (dim 64) unless --model; default N = 2000
        """;

    public static int Run(CliArgs args)
    {
        var suite = args.Positional.FirstOrDefault() ?? throw new CliException("which benchmark? model, ps, data, cluster, serve");
        switch (suite)
        {
            case "model":
            {
                var batch = args.Int("batch", 256);
                var preset = args.Get("preset", "din") switch
                {
                    "din" => ModelPreset.Din,
                    "base" => ModelPreset.Base,
                    var p => throw new CliException($"--preset is set to '{p}', must be din or base"),
                };
                var steps = args.Int("steps", 100);
                var lanes = args.Int("lanes", 1);
                // Absent: ModelBench's default (the cores split among the lanes).
                int? threads = args.Has("threads") ? args.Int("threads", 0) : null;
                args.RejectUnknown();
                if (lanes < 1 || threads < 1) throw new CliException("--lanes and --threads must be >= 1");
                var r = ModelBench.Run(batch, preset, steps, seed: 1, log: Console.Out, threads: threads, lanes: lanes);
                Console.WriteLine($"bench model: {r.Summary}");
                return 0;
            }
            case "ps":
            {
                var rows = args.Long("rows", 10_000_000);
                var dim = args.Int("dim", 64);
                args.RejectUnknown();
                var r = PsBench.Run(rows, dim, Console.Out);
                Console.WriteLine($"bench ps: {r.Rows:N0} rows x {r.Dim}: Adagrad updates {r.UpdateRowsPerSecond:N0} rows/s (Zipf ids, one thread); "
                    + $"resident {r.ResidentRatio:F2} x payload, GC heap {r.GcHeapRatio:F2} x; pull {r.PullNanosPerId:F0} ns/id; fill {r.FillRowsPerSecond:N0} rows/s");
                return 0;
            }
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
            case "cluster":
            {
                var options = new ClusterBenchOptions(
                    Samples: args.Int("samples", 80_000),
                    Seed: (ulong)args.Long("seed", 42),
                    BatchSize: args.Int("batch-size", 256),
                    Threads: args.Int("threads", 0),
                    Repeat: args.Int("repeat", 1),
                    Lanes: args.Int("lanes", Cluster.Jobs.TrainJob.DefaultLanes),
                    Script: args.Get("script"),
                    KeepDir: args.Get("keep"));
                args.RejectUnknown();
                if (options.Samples < 1_000 || options.Repeat < 1 || options.BatchSize < 1 || options.Threads < 0 || options.Lanes is < 1 or > 64)
                    throw new CliException("--samples must be >= 1000, --repeat and --batch-size >= 1, --threads >= 0, --lanes 1..64");
                var r = ClusterBench.Run(options, Launcher(), Console.Out);
                Console.WriteLine();
                Console.WriteLine($"bench cluster: {r.TrainSamples:N0} training samples, DIN default dims, batch {options.BatchSize}; training samples/s (evaluation excluded) of epoch 1 (cold) and epoch 2 (warm), best of {options.Repeat}");
                Console.WriteLine($"  {"mode",-26} {"workers",7} {"lanes x threads",15} {"epoch 1",10} {"x local",8} {"epoch 2",10} {"x local",8}");
                foreach (var m in r.Modes)
                    Console.WriteLine($"  {m.Name,-26} {m.Workers,7} {m.Threads,15} {m.ColdSamplesPerSecond,10:N0} {m.ColdSamplesPerSecond / r.ColdLocal,8:F2} {m.SamplesPerSecond,10:N0} {m.SamplesPerSecond / r.Local,8:F2}");
                var sim1 = r.Modes[1].SamplesPerSecond;
                Console.WriteLine($"  scaling 1 -> 2 workers (simulated): {r.Modes[3].SamplesPerSecond / sim1:F2}x; multi-process vs simulated, 1 worker: {r.Modes[2].SamplesPerSecond / sim1:F2}x");
                return 0;
            }
            case "serve":
            {
                var model = args.Get("model");
                var requests = args.Int("requests", 2000);
                var batches = args.Get("batches", "1,64").Split(',').Select(b => int.TryParse(b, out var n) && n > 0
                    ? n : throw new CliException($"--batches is set to '{args.Get("batches")}', must be sizes > 0 separated by commas")).ToArray();
                var scorers = args.Int("scorers", Environment.ProcessorCount);
                var threads = args.Int("threads", Math.Max(1, Environment.ProcessorCount / Math.Max(1, scorers)));
                var clients = args.Int("clients", scorers);
                var seed = args.Int("seed", 1);
                args.RejectUnknown();
                if (requests < 10 || scorers < 1 || threads < 1 || clients < 1)
                    throw new CliException("--requests must be >= 10, --scorers, --threads and --clients >= 1");
                TorchThreads.Configure(threads);
                using var scorer = model is null
                    ? ServeBench.FreshModel(scorers)
                    : ModelScorer.FromCheckpoint(ModelCheckpoint.Load(ModelCheckpoint.Resolve(model)), scorers, UnseenIds.Init);
                Console.WriteLine($"bench serve: {scorer.Source}; {scorers} scorer(s) x {threads} libtorch thread(s); {requests:N0} requests per batch size, seed {seed}");
                var r = ServeBench.Run(scorer, batches, requests, clients, seed, Console.Out);
                Console.WriteLine($"bench serve: POST /predict over loopback HTTP, histories mean {r.MeanHistoryLength:F1} ids");
                Console.WriteLine($"  {"batch",5} {"p50 ms",8} {"p90 ms",8} {"p99 ms",8} {"req/s (1 client)",17} {"req/s (" + clients + " clients)",18} {"samples/s",10} {"parse p50",10} {"score p50",10} {"score/p50",9}");
                foreach (var row in r.Rows)
                    Console.WriteLine($"  {row.Batch,5} {row.P50Milliseconds,8:F2} {row.P90Milliseconds,8:F2} {row.P99Milliseconds,8:F2} {row.RequestsPerSecond,17:N0} {row.ConcurrentRequestsPerSecond,18:N0} {row.ConcurrentSamplesPerSecond,10:N0} {row.ParseP50Milliseconds,10:F2} {row.ScoreP50Milliseconds,10:F2} {row.ScoreP50Milliseconds / row.P50Milliseconds,9:F2}");
                Console.WriteLine("  (parse and score: the same bodies in process, without HTTP; score/p50: the share of the round trip that is lookup + forward)");
                return 0;
            }
            default:
                throw new CliException($"unknown benchmark '{suite}'; see `dincluster bench --help`");
        }
    }

    /// <summary>This CLI as a child process: `dotnet dincluster.dll` (or the apphost itself).</summary>
    private static CliLauncher Launcher()
    {
        var dll = Assembly.GetEntryAssembly()?.Location is { Length: > 0 } l ? l : Path.Combine(AppContext.BaseDirectory, "dincluster.dll");
        var host = Environment.ProcessPath ?? "dotnet";
        return Path.GetFileNameWithoutExtension(host) == "dotnet" ? new CliLauncher(host, [dll], dll) : new CliLauncher(host, [], dll);
    }
}

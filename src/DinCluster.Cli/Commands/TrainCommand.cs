using System.Globalization;
using System.Text.Json.Nodes;
using DinCluster.Cluster.Configuration;
using DinCluster.Cluster.Hosting;
using DinCluster.Cluster.Jobs;
using DinCluster.Cluster.Local;
using DinCluster.Cluster.Runs;
using DinCluster.Core.Embeddings;
using DinCluster.Core.Features;
using DinCluster.Core.Metrics;
using DinCluster.Core.Optimizers;
using DinCluster.Data;
using DinCluster.Cluster.Protocol;
using DinCluster.Model.Networks;

namespace DinCluster.Cli.Commands;

/// <summary>`dincluster train`: builds a <see cref="TrainJob"/> from the config file and flags, runs it.</summary>
public static class TrainCommand
{
    public static string Help { get; } = """
        dincluster train --data DIR --out RUN [options]

          --data DIR              DIR/train/*.parquet and DIR/test/*.parquet (behaviour-log schema)
          --out RUN               run folder (summary.json, metrics.csv, curves.png, checkpoints/)
          --local                 single process, no actors (the reference trainer)
                                  default: the simulated cluster (N ActorSystems in this process,
                                  joined over loopback with real remoting)
          --seeds HOST:PORT[,..]  multi-process/multi-host: this process is the coordinator node of a
                                  cluster whose other nodes run `dincluster node` (see --port)
          --port P                this coordinator's port with --seeds (default 0 = any free port)
          --standby               with --seeds: a standby coordinator (start it after the active one, with
                                  the same job flags and --out): idle until the active coordinator's node
                                  is removed, then it takes the job over from the run's newest checkpoint
                                  (workers, PS and data nodes stay and re-register) and finishes it; exits 0
                                  when dismissed at the end of a job it did not take over
          --hostname H            address other nodes reach this coordinator at (default 127.0.0.1;
                                  under --deployment docker the container's own IPv4 address)
          --deployment multiprocess|docker   cluster-config overlay with --seeds (default multiprocess)
          --tls-cert F.pfx --tls-password P --tls-ca CA.pem
                                  with --seeds: remoting over mutual TLS (scripts/make-certs)
          --workers W             worker actors (default 2)
          --data-shards D         data-shard actors (default 2)
          --nodes N               simulated: ActorSystems (default 1 + max(workers, ps, data shards))
          --sync MODE             async (default) | ssp:K | bsp
          --cluster-config F      HOCON layered over cluster-config's deployment overlay
          --config F              JSON: "features"/"history_pairs" (feature schema), "model" and "train"
                                  sections with the option names below in snake_case; flags win
          --epochs E              default 2
          --batch-size B          default 256
          --preset din|base       DIN (attention) or the paper's BaseModel (sum pooling); default din
          --attention-activation sigmoid|dice|prelu|relu   default sigmoid
          --attention-softmax     masked softmax over valid positions (default: none, as the paper)
          --mlp-activation dice|prelu                      default dice
          --embedding-dim D       width of every table of the default schema (default 64)
          --sparse-optimizer SPEC adagrad|adam|sgd|ftrl, optionally with :key=value,... (default adagrad)
          --sparse-lr X           learning rate of the sparse optimizer (default per optimizer)
          --dense-lr X            Adam learning rate of the dense weights (default 0.001)
          --mba-lambda X          mini-batch aware L2 strength (default 0 = off)
          --min-count N           admit an id to a table after N sightings (default 1)
          --ps N                  PS shards (cluster, default 2) / in-process embedding shards (--local, default 1)
          --seed S                default 1
          --on-bad-input fail|skip   default fail
          --max-steps N           stop after N steps in total (smoke runs)
          --checkpoint-every-steps N    also checkpoint mid-epoch every N steps (default 0 = off;
                                  epoch ends and the run's end always checkpoint)
          --checkpoint-every-minutes M  also checkpoint mid-epoch every M minutes (default 0 = off)
          --resume                continue the run in --out from its newest valid checkpoint (a bad
                                  one is refused by name and the previous one used); --ps may differ
          --threads N             libtorch intra-op threads of a worker (the local trainer is one),
                                  split among its lanes (default: local: the cores; a cluster worker
                                  with 1 lane: cores - 1 shared by its process's workers; with K
                                  lanes: the cores shared by them)
          --lanes K               each batch is computed as K slices in parallel by K copies of the
                                  network, gradients added (default 1; Dice normalises per slice)
          --metrics-port P        cluster: serve Prometheus metrics at http://HOST:P/metrics (0 = any free port)
          --log-every N           metrics.csv row every N steps (default 50)
          --compare-base          also train the BaseModel with the same settings and report RelaImpr

        Environment (the container contract, docs/docker.md): read when the flag is absent; flag > variable > --config.
        """ + "\n" + EnvironmentContract.Describe("train");

    public static int Run(CliArgs args)
    {
        var options = new CommandOptions("train", args, CommandEnvironment.Process);
        var local = args.Flag("local");
        var job = BuildJob(options, Console.Out, defaultShards: local ? 1 : 2);
        var compare = args.Flag("compare-base");
        Func<TrainJob, RunSummary> train = local ? j => new LocalTrainer(j, Console.Out).Run(CommandLine()) : ClusterTrainer(options);
        var metricsPort = options.MetricsPort();
        if (local && metricsPort is not null) throw new CliException("--metrics-port serves the cluster's metrics; the --local trainer has none");
        args.RejectUnknown();
        using var metrics = CommandOptions.StartMetrics(metricsPort, Console.Out);

        var summary = train(job);
        if (summary.Status == "standby")
        {
            // A standby coordinator that never took the job over: the active coordinator ran it to its end.
            Console.WriteLine($"standby coordinator: not needed ({summary.Error})");
            return 0;
        }
        PrintSummary(summary, job);
        if (compare)
        {
            var baseJob = job with { Model = job.Model with { Preset = ModelPreset.Base }, OutDir = Path.Combine(job.OutDir, "base") };
            Console.WriteLine();
            Console.WriteLine("training the BaseModel for comparison (same data, seed and optimizers)");
            var baseSummary = train(baseJob);
            PrintSummary(baseSummary, baseJob);
            var din = summary.Final!;
            var bas = baseSummary.Final!;
            var impr = RelaImpr.Percent(din.Auc, bas.Auc);
            var gimpr = RelaImpr.Percent(din.Gauc, bas.Gauc);
            summary.Comparison = new BaseComparison(bas.Auc, bas.Gauc, impr, gimpr);
            summary.Write(Path.Combine(job.OutDir, "summary.json"));
            Console.WriteLine($"DIN vs BaseModel: AUC {din.Auc:F4} vs {bas.Auc:F4} (RelaImpr {impr:+0.00;-0.00}%), GAUC {din.Gauc:F4} vs {bas.Gauc:F4} (RelaImpr {gimpr:+0.00;-0.00}%)");
        }
        return summary.Status == "completed" ? 0 : 1;
    }

    /// <summary>The simulated cluster, or with --seeds this process as the coordinator of a multi-process cluster.</summary>
    private static Func<TrainJob, RunSummary> ClusterTrainer(CommandOptions options)
    {
        var args = options.Args;
        var shape = Shape(options);
        var standby = args.Flag("standby");
        if (standby && options.Get("out") is null) throw new CliException("--standby needs --out RUN: the run folder of the job it may take over (the active coordinator's --out)");
        if (CoordinatorNode(options) is not { } node)
        {
            if (standby) throw new CliException("--standby needs --seeds: a standby coordinator joins the cluster of an active one");
            // Without seeds the coordinator-node options (--port, --hostname, --deployment) are accepted and unused.
            foreach (var unused in (string[])["port", "hostname", "deployment", "tls-cert", "tls-password", "tls-ca"]) args.Has(unused);
            var configPath = options.Get("cluster-config");
            return job => ClusterRunner.RunSimulated(job, shape, Console.Out, configPath).GetAwaiter().GetResult().Summary;
        }
        return job => ClusterRunner.RunCoordinator(job, shape, node, Console.Out, standby: standby).GetAwaiter().GetResult().Summary;
    }

    /// <summary>Workers, data shards, nodes and sync mode of a cluster run (flags, else DINCLUSTER_* variables).</summary>
    public static ClusterShapeOptions Shape(CommandOptions options)
    {
        var (sync, staleness) = Parse(() => SyncSpec.Parse(options.Args.Get("sync", "async")));
        var shape = new ClusterShapeOptions(
            Workers: options.Int("workers", 2), DataShards: options.Int("data-shards", 2), Nodes: options.Args.Int("nodes", 0),
            Sync: sync, Staleness: staleness);
        if (shape.Workers < 1 || shape.DataShards < 1) throw new CliException("--workers and --data-shards must be >= 1");
        return shape;
    }

    /// <summary>With seeds (--seeds or DINCLUSTER_SEEDS): this process's options as the coordinator node; else null.</summary>
    public static NodeOptions? CoordinatorNode(CommandOptions options)
    {
        if (options.Seeds() is not { } seeds) return null;
        var deployment = options.ReadDeployment();
        return new NodeOptions([NodeRole.Coordinator], options.Int("port", 0), seeds, deployment, options.Hostname(deployment),
            options.Get("cluster-config"), Tls: options.Tls());
    }

    private static T Parse<T>(Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (FormatException e)
        {
            throw new CliException(e.Message);
        }
    }

    private static string CommandLine() => "dincluster " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1));

    internal static void PrintSummary(RunSummary s, TrainJob job)
    {
        Console.WriteLine();
        Console.WriteLine($"run {job.OutDir}: {s.Status}, {s.Steps:N0} steps, {s.SamplesPerSecond:N0} samples/s");
        foreach (var e in s.Epochs)
            Console.WriteLine($"  epoch {e.Epoch}: {e.SamplesConsumed:N0}/{e.SamplesExpected:N0} samples{(e.SamplesSkipped > 0 ? $" ({e.SamplesSkipped:N0} skipped)" : "")}, train loss {e.TrainLoss:F4}, test AUC {e.Test?.Auc:F4} GAUC {e.Test?.Gauc:F4} logloss {e.Test?.LogLoss:F4}");
        if (s.Final?.FractionOfBayes is { } f)
            Console.WriteLine($"  (AUC - 0.5) / (Bayes AUC {s.Dataset.BayesAuc:F4} - 0.5) = {f:F3}");
        if (s.BadInput is { } b) Console.WriteLine($"  bad input: {string.Join(", ", b.SkippedRows.Select(kv => $"{kv.Key} {kv.Value}"))}; truncated histories {b.TruncatedHistories}");
        Console.WriteLine($"  summary {Path.Combine(job.OutDir, "summary.json")}, curves {Path.Combine(job.OutDir, "curves.png")}");
    }

    /// <summary>Config file first, DINCLUSTER_* variables over it, flags over those.</summary>
    public static TrainJob BuildJob(CommandOptions options, TextWriter log, int defaultShards = 1)
    {
        var args = options.Args;
        var data = options.Require("data");
        var configPath = args.Get("config");
        JsonObject config = [];
        var schema = FeatureSchema.Default(args.Int("embedding-dim", 64));
        if (configPath is not null)
        {
            if (!File.Exists(configPath)) throw new CliException($"--config {configPath}: no such file");
            schema = FeatureSchemaJson.Load(configPath);
            config = (JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject)!;
        }
        var model = config["model"] as JsonObject ?? [];
        var train = config["train"] as JsonObject ?? [];

        string? Opt(string flag, JsonObject section)
        {
            var v = options.Get(flag);
            if (v is not null) return v;
            var key = flag.Replace('-', '_');
            return section[key] is { } node ? node.ToString() : null;
        }
        int OptInt(string flag, JsonObject section, int fallback) =>
            Opt(flag, section) is { } v ? ParseInt(options.Lookup(flag)?.Source ?? "--" + flag, v) : fallback;
        double? OptDouble(string flag, JsonObject section) => Opt(flag, section) is { } v ? ParseDouble(flag, v) : null;

        var seed = OptInt("seed", train, 1);
        var modelSettings = new ModelSettings
        {
            Preset = ParseEnum<ModelPreset>("preset", Opt("preset", model) ?? "din"),
            AttentionActivation = ParseEnum<Activation>("attention-activation", Opt("attention-activation", model) ?? "sigmoid"),
            MlpActivation = ParseEnum<Activation>("mlp-activation", Opt("mlp-activation", model) ?? "dice"),
            AttentionSoftmax = args.Flag("attention-softmax") || model["attention_softmax"]?.GetValue<bool>() == true,
            Seed = seed,
        };
        var optimizer = Parse(() => SparseOptimizerSettings.Parse(Opt("sparse-optimizer", train) ?? "adagrad"));
        if (OptDouble("sparse-lr", train) is { } slr) optimizer = optimizer with { LearningRate = (float)slr };
        var embeddings = new EmbeddingSettings
        {
            Seed = seed,
            Optimizer = optimizer,
            MbaLambda = (float)(OptDouble("mba-lambda", train) ?? 0),
            MinCount = OptInt("min-count", train, 1),
        };
        var dense = new AdamSettings(LearningRate: (float)(OptDouble("dense-lr", train) ?? 0.001));
        var policy = (Opt("on-bad-input", train) ?? "fail") switch
        {
            "fail" => BadInputPolicy.Fail,
            "skip" => BadInputPolicy.Skip,
            var other => throw new CliException($"--on-bad-input is set to '{other}', must be fail or skip"),
        };
        if (args.Flag("resume") && options.Get("out") is null) throw new CliException("--resume needs --out RUN: the run folder whose checkpoints to continue from");
        var job = new TrainJob
        {
            DataDir = data,
            OutDir = options.Get("out") ?? Path.Combine("runs", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)),
            Schema = schema,
            Model = modelSettings,
            Embeddings = embeddings,
            Dense = dense,
            Epochs = OptInt("epochs", train, 2),
            BatchSize = OptInt("batch-size", train, 256),
            Seed = seed,
            OnBadInput = policy,
            PsShards = OptInt("ps", train, defaultShards),
            MaxSteps = OptInt("max-steps", train, 0),
            CheckpointEverySteps = OptInt("checkpoint-every-steps", train, 0),
            CheckpointEveryMinutes = OptDouble("checkpoint-every-minutes", train) ?? 0,
            Resume = args.Flag("resume"),
            TorchThreads = OptInt("threads", train, 0),
            Lanes = OptInt("lanes", train, TrainJob.DefaultLanes),
            LogEverySteps = OptInt("log-every", train, 50),
        };
        try
        {
            job.Validate();
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message);
        }
        _ = log;
        return job;
    }

    /// <summary><paramref name="name"/> is where the value came from: "--flag" (or its config key) or a DINCLUSTER_* variable.</summary>
    private static int ParseInt(string name, string v) =>
        int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var x) ? x : throw new CliException($"{name} is set to '{v}', must be a whole number");

    private static double ParseDouble(string flag, string v) =>
        double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) ? x : throw new CliException($"--{flag} is set to '{v}', must be a number");

    private static T ParseEnum<T>(string flag, string v) where T : struct, Enum =>
        Enum.TryParse<T>(v, ignoreCase: true, out var x) && Enum.IsDefined(x)
            ? x
            : throw new CliException($"--{flag} is set to '{v}', must be one of {string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}");
}

using DinCluster.Cli.Commands;
using DinCluster.Core.Features;
using DinCluster.Data;

namespace DinCluster.Cli;

public static class Program
{
    private const string Usage = """
        dincluster: trains the Deep Interest Network (DIN) on a cluster of Akka.NET actors.

        commands:
          generate --out DIR [--users N --items N --categories N --samples N --seed S]
                                 synthetic train/ and test/ Parquet with known click probabilities
          import samples|csv|movielens|amazon ... --out DIR
                                 real logs to the behaviour-log schema (train/ and test/)
          train --data DIR --out RUN [--local] [--workers W --ps P --sync async|ssp:K|bsp] [--seeds ...]
                                 trains (simulated cluster by default); writes RUN/summary.json,
                                 metrics.csv, curves.png, checkpoints/
          node --role worker|ps|data --port P --seeds HOST:PORT[,...]
                                 one node of a multi-process or multi-host cluster
          status --seeds HOST:PORT[,...]
                                 members (address, roles, status, reachability) and the job's progress
          evaluate --model CKPT --data DIR [--predictions OUT.csv]
                                 AUC, GAUC, logloss of a checkpoint on DIR/test
          export --model CKPT --format pytorch|parquet --out PATH
          predict --model CKPT --data PATH --out FILE.csv|FILE.parquet
                                 scores Parquet behaviour logs in bulk
          serve --model CKPT --port P [--host 127.0.0.1]
                                 answers scoring requests over HTTP (POST /predict, GET /health)
          bench model|data|ps|cluster|serve
                                 the benchmarks the README quotes

        `dincluster COMMAND --help` lists a command's options.
        """;

    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        var rest = new CliArgs(args.Skip(1));
        try
        {
            if (rest.Flag("help"))
            {
                Console.WriteLine(CommandHelp(args[0]));
                return 0;
            }
            return args[0] switch
            {
                "generate" => GenerateCommand.Run(rest),
                "import" => ImportCommand.Run(rest),
                "train" => TrainCommand.Run(rest),
                "evaluate" => EvaluateCommand.Run(rest),
                "export" => ExportCommand.Run(rest),
                "predict" => PredictCommand.Run(rest),
                "serve" => ServeCommand.Run(rest),
                "bench" => BenchCommand.Run(rest),
                "node" => NodeCommand.Run(rest),
                "health" => HealthCommand.Run(rest),
                "status" => StatusCommand.Run(rest),
                _ => throw new CliException($"unknown command '{args[0]}'; run `dincluster --help`"),
            };
        }
        catch (CliException e)
        {
            Console.Error.WriteLine($"dincluster {args[0]}: {e.Message}");
            return 2;
        }
        catch (Exception e) when (e is BadInputException or SchemaException or InvalidDataException or FileNotFoundException or ArgumentException)
        {
            Console.Error.WriteLine($"dincluster {args[0]}: error: {e.Message}");
            return 1;
        }
    }

    private static string CommandHelp(string command) => command switch
    {
        "train" => TrainCommand.Help,
        "generate" => GenerateCommand.Help,
        "import" => ImportCommand.Help,
        "evaluate" => EvaluateCommand.Help,
        "export" => ExportCommand.Help,
        "predict" => PredictCommand.Help,
        "serve" => ServeCommand.Help,
        "bench" => BenchCommand.Help,
        "node" => NodeCommand.Help,
        "health" => HealthCommand.Help,
        "status" => StatusCommand.Help,
        _ => Usage,
    };
}

using DinCluster.Data;
using DinCluster.Data.Importers;

namespace DinCluster.Cli.Commands;

/// <summary>`dincluster import samples|csv|movielens|amazon`: real logs to behaviour-log Parquet (Importers/README.md).</summary>
public static class ImportCommand
{
    public const string Help = """
        dincluster import KIND ... --out DIR [options]
        Writes DIR/train/part-*.parquet, DIR/test/part-*.parquet (default schema + timestamp) and DIR/import.json.

          samples   --input F.csv        ready-made samples: user_id,item_id,category_id,hist_item_id,hist_category_id,label[,timestamp]
                                         (lists space-separated, oldest first); histories kept as given
          csv       --input F.csv        an event log; each event becomes a sample whose history is the user's
                                         earlier positive events (by timestamp, then item)
                    --user-column C --item-column C --category-column C --timestamp-column C   (defaults: user_id,
                                         item_id, category_id, timestamp)
                    --label-column C     0/1 label (default label), or
                    --rating-column C [--threshold X]   label = rating >= X (default 4)
                    --hash-ids           id cells are strings (hashed to int64)
                    --delimiter D        , (default), tab, ; or |
          movielens --input DIR          DIR/ratings.csv + DIR/movies.csv (or --ratings F --movies F);
                                         rating >= --threshold (4) positive, category = first genre
          amazon    --reviews F --meta F review JSON lines (5-core) + metadata (JSON or Python-literal lines, .gz ok);
                                         DIN's protocol: one sampled negative per review after the first

        options:
          --split S           last-per-user[:K] | users:FRACTION | time:T   (default: movielens users:0.1, others last-per-user:1)
          --seed N            users split, Amazon negatives, train shuffle (default 1)
          --on-bad-input fail|skip   a bad line stops the import (default) or is counted in import.json
          --max-history N     most recent ids kept per history (default 50; samples: as given); 0 = no limit
          --memory-mb M       memory for the per-user partitions (default: a quarter of the GC limit, at most 1024)
          --row-group-size R  default 8192          --rows-per-file N   default 1000000
          --no-shuffle        keep train rows in (user, time) order  --force   replace Parquet files already in DIR
        """;

    public static int Run(CliArgs args)
    {
        var kind = args.Positional.Count > 0 ? args.Positional[0] : throw new CliException("say what to import: samples, csv, movielens or amazon");
        var options = Options(args);
        var log = Console.Out;
        try
        {
            switch (kind)
            {
                case "samples":
                {
                    var input = Input(args);
                    var delimiter = Delimiter(args);
                    args.RejectUnknown();
                    SamplesCsvImporter.Run(input, options, log, delimiter);
                    break;
                }
                case "csv":
                {
                    var d = new EventCsvSource { Path = "" };
                    var source = d with
                    {
                        Path = Input(args),
                        UserColumn = args.Get("user-column", d.UserColumn),
                        ItemColumn = args.Get("item-column", d.ItemColumn),
                        CategoryColumn = args.Get("category-column", d.CategoryColumn),
                        TimestampColumn = args.Get("timestamp-column", d.TimestampColumn),
                        LabelColumn = args.Get("label-column", d.LabelColumn),
                        RatingColumn = args.Get("rating-column"),
                        Threshold = args.Double("threshold", d.Threshold),
                        Delimiter = Delimiter(args),
                        HashIds = args.Flag("hash-ids"),
                    };
                    if (source.RatingColumn is null && args.Has("threshold")) throw new CliException("--threshold needs --rating-column");
                    if (source.RatingColumn is not null && args.Has("label-column")) throw new CliException("--label-column and --rating-column exclude each other");
                    args.RejectUnknown();
                    EventCsvImporter.Run(source, options, log);
                    break;
                }
                case "movielens":
                {
                    var dir = args.Get("input") ?? (args.Positional.Count > 1 ? args.Positional[1] : null);
                    var ratings = args.Get("ratings") ?? (dir is null ? null : Path.Combine(dir, "ratings.csv"));
                    var movies = args.Get("movies") ?? (dir is null ? null : Path.Combine(dir, "movies.csv"));
                    if (ratings is null || movies is null) throw new CliException("movielens needs --input DIR (with ratings.csv and movies.csv) or --ratings F --movies F");
                    var threshold = args.Double("threshold", 4);
                    args.RejectUnknown();
                    MovieLensImporter.Run(ratings, movies, options, log, threshold);
                    break;
                }
                case "amazon":
                {
                    var reviews = args.Require("reviews");
                    var meta = args.Require("meta");
                    args.RejectUnknown();
                    AmazonImporter.Run(reviews, meta, options, log);
                    break;
                }
                default:
                    throw new CliException($"unknown import '{kind}'; must be samples, csv, movielens or amazon");
            }
        }
        catch (BadLineException e)
        {
            Console.Error.WriteLine($"dincluster import: error: {e.Message}");
            return 1;
        }
        return 0;
    }

    private static ImportOptions Options(CliArgs args)
    {
        SplitSpec? split = null;
        if (args.Get("split") is { } s)
        {
            try
            {
                split = SplitSpec.Parse(s);
            }
            catch (ArgumentException e)
            {
                throw new CliException($"--{e.Message}");
            }
        }
        var policy = args.Get("on-bad-input", "fail") switch
        {
            "fail" => BadInputPolicy.Fail,
            "skip" => BadInputPolicy.Skip,
            var other => throw new CliException($"--on-bad-input is set to '{other}', must be fail or skip"),
        };
        var options = new ImportOptions
        {
            OutDir = args.Require("out"),
            Split = split,
            Seed = (ulong)args.Long("seed", 1),
            OnBadInput = policy,
            MaxHistory = args.Has("max-history") ? args.Int("max-history", 50) : null,
            RowGroupSize = args.Int("row-group-size", BehaviourLogWriter.DefaultRowGroupSize),
            RowsPerFile = args.Long("rows-per-file", 1_000_000),
            MemoryBudgetBytes = args.Long("memory-mb", 0) << 20,
            Shuffle = !args.Flag("no-shuffle"),
            Overwrite = args.Flag("force"),
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new CliException(e.Message);
        }
        return options;
    }

    private static string Input(CliArgs args) =>
        args.Get("input") ?? (args.Positional.Count > 1 ? args.Positional[1] : throw new CliException("--input is required"));

    private static char Delimiter(CliArgs args) => args.Get("delimiter", ",") switch
    {
        "," => ',',
        "tab" or "\\t" or "\t" => '\t',
        ";" => ';',
        "|" => '|',
        var other => throw new CliException($"--delimiter is set to '{other}', must be ',', tab, ';' or '|'"),
    };
}

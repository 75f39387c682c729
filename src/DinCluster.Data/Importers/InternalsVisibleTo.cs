using System.Runtime.CompilerServices;

// The importers' parsers (CsvReader, LiteralLine) and the partition spill are internal; their unit tests
// live in DinCluster.Data.Tests/Importers.
[assembly: InternalsVisibleTo("DinCluster.Data.Tests")]

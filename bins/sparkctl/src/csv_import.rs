//! Reading the employee CSV (interfaces.md's header) into repository inputs, keeping
//! each record's line so every problem can be reported as `file:line: column N (name)`.

use std::io::Read;

use persistence::{Change, EmployeeInput, InputProblem, Role};

/// The columns a file may have, in the documented order; all but `email` optional.
pub const COLUMNS: [&str; 11] = [
    "email",
    "given_name",
    "family_name",
    "display_name",
    "phone",
    "title",
    "department",
    "employee_number",
    "manager_email",
    "active",
    "role",
];

/// One problem with the file, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvProblem {
    /// 1-based line in the file.
    pub line: u64,
    /// 1-based column and its header name, when the problem is in one cell.
    pub column: Option<(usize, String)>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl CsvProblem {
    /// `employees.csv:7: column 10 (active): expected true or false, found "maybe"`.
    pub fn render(&self, source: &str) -> String {
        match &self.column {
            Some((number, name)) => {
                format!(
                    "{source}:{}: column {number} ({name}): {}",
                    self.line, self.message
                )
            }
            None => format!("{source}:{}: {}", self.line, self.message),
        }
    }
}

/// A parsed file: the inputs, and the line each came from.
#[derive(Debug)]
pub struct ParsedCsv {
    /// One input per data record.
    pub inputs: Vec<EmployeeInput>,
    /// `lines[i]` is the file line of `inputs[i]`.
    pub lines: Vec<u64>,
    /// Header name -> 1-based column.
    columns: Vec<(String, usize)>,
}

impl ParsedCsv {
    /// Locates a problem the repository found in input `problem.index`.
    pub fn locate(&self, problem: &InputProblem) -> CsvProblem {
        let line = self.lines.get(problem.index).copied().unwrap_or_default();
        let column = self
            .columns
            .iter()
            .find(|(name, _)| name == problem.field)
            .map(|(name, number)| (*number, name.clone()));
        CsvProblem {
            line,
            column,
            message: problem.message.clone(),
        }
    }
}

/// Reads and checks a whole file; either every record is well-formed, or the problems.
pub fn parse(reader: impl Read) -> Result<ParsedCsv, Vec<CsvProblem>> {
    let mut csv = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(reader);
    let header = match csv.headers() {
        Ok(header) => header.clone(),
        Err(e) => return Err(vec![problem_of_csv_error(&e)]),
    };
    let mut problems = Vec::new();
    let mut columns: Vec<(String, usize)> = Vec::new();
    for (i, name) in header.iter().enumerate() {
        let name = name.trim_start_matches('\u{feff}').to_ascii_lowercase();
        let number = i + 1;
        if !COLUMNS.contains(&name.as_str()) {
            problems.push(CsvProblem {
                line: 1,
                column: Some((number, name.clone())),
                message: format!("unknown column; the columns are {}", COLUMNS.join(",")),
            });
        } else if columns.iter().any(|(seen, _)| *seen == name) {
            problems.push(CsvProblem {
                line: 1,
                column: Some((number, name.clone())),
                message: "this column appears twice".into(),
            });
        }
        columns.push((name, number));
    }
    if !columns.iter().any(|(name, _)| name == "email") {
        problems.push(CsvProblem {
            line: 1,
            column: None,
            message: format!(
                "the header has no `email` column; the first line must name the columns, e.g. {}",
                COLUMNS.join(",")
            ),
        });
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    let mut inputs = Vec::new();
    let mut lines = Vec::new();
    for record in csv.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                problems.push(problem_of_csv_error(&e));
                continue;
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        if record.iter().all(str::is_empty) {
            continue; // a blank line
        }
        if record.len() != columns.len() {
            problems.push(CsvProblem {
                line,
                column: None,
                message: format!(
                    "{} fields where the header has {}; quote values that contain commas",
                    record.len(),
                    columns.len()
                ),
            });
            continue;
        }
        let mut input = EmployeeInput::default();
        for ((name, number), value) in columns.iter().zip(record.iter()) {
            let locate = |message: String| CsvProblem {
                line,
                column: Some((*number, name.clone())),
                message,
            };
            let text = || Change::Set((!value.is_empty()).then(|| value.to_owned()));
            match name.as_str() {
                "email" => input.email = value.to_owned(),
                "given_name" => input.given_name = text(),
                "family_name" => input.family_name = text(),
                "display_name" => input.display_name = text(),
                "phone" => input.phone = text(),
                "title" => input.title = text(),
                "department" => input.department = text(),
                "employee_number" => input.employee_number = text(),
                "manager_email" => input.manager_email = text(),
                "active" => match value.to_ascii_lowercase().as_str() {
                    "" => {}
                    "true" => input.active = Change::Set(true),
                    "false" => input.active = Change::Set(false),
                    _ => problems.push(locate(format!("expected true or false, found {value:?}"))),
                },
                "role" if value.is_empty() => {}
                "role" => match value.parse::<Role>() {
                    Ok(role) => input.role = Change::Set(role),
                    Err(_) => problems.push(locate(format!(
                        "expected employee or admin, found {value:?}"
                    ))),
                },
                _ => {}
            }
        }
        inputs.push(input);
        lines.push(line);
    }
    if problems.is_empty() {
        Ok(ParsedCsv {
            inputs,
            lines,
            columns,
        })
    } else {
        Err(problems)
    }
}

fn problem_of_csv_error(error: &csv::Error) -> CsvProblem {
    let line = error.position().map_or(0, csv::Position::line);
    let message = match error.kind() {
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8; save the file as UTF-8".to_owned(),
        csv::ErrorKind::Io(e) => format!("cannot read the file: {e}"),
        _ => error.to_string(),
    };
    CsvProblem {
        line,
        column: None,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        parse(text.as_bytes())
            .unwrap_err()
            .iter()
            .map(|p| p.render("f.csv"))
            .collect()
    }

    #[test]
    fn reads_the_documented_header_in_any_order() {
        let parsed = parse(
            "role,email,given_name,active\nadmin,ada@acme.com,Ada,true\n,bob@acme.com,,\n"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(parsed.lines, [2, 3]);
        let [ada, bob] = parsed.inputs.as_slice() else {
            panic!()
        };
        assert_eq!(ada.role, Change::Set(Role::Admin));
        assert_eq!(ada.given_name, Change::Set(Some("Ada".into())));
        assert_eq!(
            bob.role,
            Change::Keep,
            "an empty role keeps the stored or default one"
        );
        assert_eq!(bob.active, Change::Keep);
        assert_eq!(bob.given_name, Change::Set(None), "an empty name clears it");
        assert_eq!(
            bob.family_name,
            Change::Keep,
            "a column not in the file is kept"
        );
    }

    #[test]
    fn names_the_line_and_column_of_each_bad_cell() {
        let text = "email,active,role\nada@acme.com,true,admin\nbob@acme.com,maybe,employee\ncy@acme.com,false,owner\n";
        assert_eq!(
            problems(text),
            [
                "f.csv:3: column 2 (active): expected true or false, found \"maybe\"",
                "f.csv:4: column 3 (role): expected employee or admin, found \"owner\"",
            ]
        );
    }

    #[test]
    fn header_mistakes() {
        assert_eq!(
            problems("mail,name\n"),
            [
                "f.csv:1: column 1 (mail): unknown column; the columns are email,given_name,family_name,display_name,phone,title,department,employee_number,manager_email,active,role",
                "f.csv:1: column 2 (name): unknown column; the columns are email,given_name,family_name,display_name,phone,title,department,employee_number,manager_email,active,role",
                "f.csv:1: the header has no `email` column; the first line must name the columns, e.g. email,given_name,family_name,display_name,phone,title,department,employee_number,manager_email,active,role",
            ]
        );
        assert_eq!(
            problems("email,email\n"),
            ["f.csv:1: column 2 (email): this column appears twice"]
        );
    }

    #[test]
    fn ragged_rows_and_bad_bytes() {
        assert_eq!(
            problems("email,title\nada@acme.com,CTO,extra\n"),
            ["f.csv:2: 3 fields where the header has 2; quote values that contain commas"]
        );
        let mut bytes = b"email,title\nada@acme.com,".to_vec();
        bytes.extend_from_slice(&[0xff, 0xfe, b'\n']);
        let found = parse(bytes.as_slice()).unwrap_err();
        assert_eq!(found[0].line, 2);
        assert!(found[0].message.contains("UTF-8"));
    }

    #[test]
    fn quoted_commas_and_a_byte_order_mark() {
        let parsed =
            parse("\u{feff}email,title\nada@acme.com,\"Head, Engineering\"\n".as_bytes()).unwrap();
        assert_eq!(
            parsed.inputs[0].title,
            Change::Set(Some("Head, Engineering".into()))
        );
    }
}

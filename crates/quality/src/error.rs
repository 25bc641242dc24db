/// Why a report could not be built.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Lake(#[from] eventlake_lake::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

"""The shared core every wing may import: errors, transactions, validation, links, the job queue…"""
